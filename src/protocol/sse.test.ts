import { describe, expect, test } from "bun:test";
import type { StreamEvent } from "./execution";
import { encodeSse, encodeStreamEvent, encodeStreamEventChunks, parseSse, parseStreamEvents, SSE_HEARTBEAT, type SseMessage } from "./sse";

/** A byte stream delivering `text` in chunks of `size` bytes (splits land anywhere, mid-character too). */
function chunked(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, at + size));
      at += size;
    },
  });
}

async function all<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of gen) out.push(item);
  return out;
}

describe("encodeSse", () => {
  test.each<[SseMessage, string]>([
    [{ data: "x" }, "data: x\n\n"],
    [{ id: "7", data: "x" }, "id: 7\ndata: x\n\n"],
    [{ id: "7", event: "exit", data: "x" }, "id: 7\nevent: exit\ndata: x\n\n"],
    [{ data: "a\nb\r\nc" }, "data: a\ndata: b\ndata: c\n\n"],
    [{ data: "" }, "data: \n\n"],
    [{ id: "a\nb", data: "x" }, "id: a b\ndata: x\n\n"],
  ])("%j", (message, frame) => {
    expect(encodeSse(message)).toBe(frame);
  });
});

describe("parseSse reads what encodeSse writes, in any chunking", () => {
  const messages: SseMessage[] = [
    { data: "first" },
    { id: "2", data: "multi\nline" },
    { id: "3", event: "exit", data: '{"é":"ü"}' },
    { data: "" },
  ];
  const text = messages.map(encodeSse).join(SSE_HEARTBEAT);
  test.each([1, 2, 3, 7, 64, 4096])("chunks of %d bytes", async (size) => {
    expect(await all(parseSse(chunked(text, size)))).toEqual(messages);
  });
});

describe("parseStreamEvents", () => {
  test("round-trips execution events, ids included", async () => {
    const events: StreamEvent[] = [
      { type: "stdout", data: "hello\n" },
      { type: "stderr", data: "line 1\nline 2\n" },
      { type: "error", data: "Cannot run: boom" },
    ];
    const text = events.map((event, i) => encodeStreamEvent(event, String(i))).join("");
    expect(await all(parseStreamEvents(chunked(text, 5)))).toEqual(events);
  });

  test("heartbeats alone yield nothing", async () => {
    expect(await all(parseStreamEvents(chunked(SSE_HEARTBEAT.repeat(3), 4)))).toEqual([]);
  });
});

describe("encodeStreamEventChunks", () => {
  const summary = { executionId: "x", exitCode: 0, stdout: "a\nb" } as unknown as Extract<StreamEvent, { type: "exit" }>["data"];

  test.each<[string, StreamEvent, string | undefined]>([
    ["stdout with line breaks", { type: "stdout", data: "one\ntwo\r\n" }, undefined],
    ["an exit event, with an id", { type: "exit", data: summary }, "7"],
    ["an error", { type: "error", data: "Cannot run: x" }, undefined],
  ])("%s: the pieces equal encodeStreamEvent", (_, event, id) => {
    expect([...encodeStreamEventChunks(event, id)].join("")).toBe(encodeStreamEvent(event, id));
    expect([...encodeStreamEventChunks(event, id)]).toHaveLength(1); // a small event is one piece (one write)
  });

  test("output files as bytes arrive as base64 through parseStreamEvents", async () => {
    const file = Uint8Array.from({ length: 200_000 }, (_, i) => i % 251);
    const pieces = [...encodeStreamEventChunks({ type: "exit", data: { ...summary, files: { "o.bin": file } } })];
    expect(pieces.length).toBeGreaterThan(2);
    expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThan(200_000); // never the whole file's base64 at once
    const text = pieces.join("");
    const events: StreamEvent[] = [];
    for await (const event of parseStreamEvents(chunked(text, 4096))) events.push(event);
    expect(events).toHaveLength(1);
    const exit = events[0] as Extract<StreamEvent, { type: "exit" }>;
    expect(Buffer.from(exit.data.files!["o.bin"]!, "base64").equals(Buffer.from(file))).toBe(true);
  });
});
