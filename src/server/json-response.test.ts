import { describe, expect, test } from "bun:test";
import type { StreamEvent } from "../protocol/execution";
import { encodeStreamEvent, parseStreamEvents } from "../protocol/sse";
import { eventStream, streamedJson } from "./json-response";

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) % 256);

/** Events from a list, the last one after `gate` resolves (a run still going). */
async function* eventsOf(list: StreamEvent<string | Uint8Array>[], gate: Promise<void> = Promise.resolve()): AsyncGenerator<StreamEvent<string | Uint8Array>> {
  for (const [i, event] of list.entries()) {
    if (i === list.length - 1) await gate;
    yield event;
  }
}

const summary = { executionId: "x", exitCode: 0 } as unknown as Extract<StreamEvent, { type: "exit" }>["data"];

describe("streamedJson", () => {
  test("the body is the result's JSON with output files as base64", async () => {
    const file = bytes(200_000);
    const response = streamedJson(200, { exitCode: 0, files: { "o.bin": file }, missingFiles: [] });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const body = (await response.json()) as { files: Record<string, string>; missingFiles: string[] };
    expect(Buffer.from(body.files["o.bin"]!, "base64").equals(Buffer.from(file))).toBe(true);
    expect(body.missingFiles).toEqual([]);
  });
});

describe("eventStream", () => {
  const hooks = () => {
    const seen = { ended: 0, cancelled: 0 };
    return {
      seen,
      hooks: {
        onEnd: () => void seen.ended++,
        errorEvent: (error: unknown): StreamEvent => ({ type: "error", data: `failed: ${(error as Error).message}` }),
        onCancel: () => void seen.cancelled++,
      },
    };
  };

  test("events arrive as SSE frames; an exit event's bytes as base64", async () => {
    const file = bytes(100_000);
    const { hooks: h } = hooks();
    const stream = eventStream(eventsOf([{ type: "stdout", data: "hi\n" }, { type: "exit", data: { ...summary, files: { f: file } } }]), h);
    const events: StreamEvent[] = [];
    for await (const event of parseStreamEvents(stream)) events.push(event);
    expect(events[0]).toEqual({ type: "stdout", data: "hi\n" });
    const exit = events[1] as Extract<StreamEvent, { type: "exit" }>;
    expect(Buffer.from(exit.data.files!.f!, "base64").equals(Buffer.from(file))).toBe(true);
  });

  test("the run's end is reported when the events end, before the client has read anything", async () => {
    const { hooks: h, seen } = hooks();
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const stream = eventStream(eventsOf([{ type: "stdout", data: "a" }, { type: "exit", data: summary }], gate), h);
    expect(seen.ended).toBe(0);
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen.ended).toBe(1);
    const text = await new Response(stream).text();
    expect(text).toBe(encodeStreamEvent({ type: "stdout", data: "a" }) + encodeStreamEvent({ type: "exit", data: summary }));
  });

  test("a failure of the events becomes the last event", async () => {
    const { hooks: h, seen } = hooks();
    async function* failing(): AsyncGenerator<StreamEvent> {
      yield { type: "stdout", data: "x" };
      throw new Error("boom");
    }
    const text = await new Response(eventStream(failing(), h)).text();
    expect(text).toBe(encodeStreamEvent({ type: "stdout", data: "x" }) + encodeStreamEvent({ type: "error", data: "failed: boom" }));
    expect(seen.ended).toBe(1);
  });

  test("a client that goes away cancels the run", async () => {
    const { hooks: h, seen } = hooks();
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const stream = eventStream(eventsOf([{ type: "stdout", data: "a" }, { type: "exit", data: summary }], gate), h);
    const reader = stream.getReader();
    await reader.read();
    const cancelled = reader.cancel();
    expect(seen.cancelled).toBe(1);
    finish(); // the aborted run still ends with its exit event
    await cancelled;
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen.ended).toBe(1);
  });
});
