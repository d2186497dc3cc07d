import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load";
import { parseSse, type SseMessage } from "../protocol/sse";
import { call, fakeEngine, KEY, makeApp } from "../../test/server-fixtures";
import { createStreamBuffers } from "./sse-buffer";

const body = { request: { code: "1" } };

/** An engine whose stream says a, b, then waits for `go`, then c, d and exit; it records an abort. */
function gatedEngine() {
  let go!: () => void;
  const gate = new Promise<void>((resolve) => (go = resolve));
  let aborted!: () => void;
  const stopped = new Promise<void>((resolve) => (aborted = resolve));
  const engine = fakeEngine();
  engine.executeStream = (_request, context?: { signal?: AbortSignal }) =>
    (async function* () {
      context?.signal?.addEventListener("abort", () => aborted());
      yield { type: "stdout" as const, data: "a" };
      yield { type: "stdout" as const, data: "b" };
      await gate;
      yield { type: "stdout" as const, data: "c" };
      yield { type: "stdout" as const, data: "d" };
      yield { type: "exit" as const, data: { exitCode: 0 } as never };
    })();
  return { engine, go, stopped };
}

/** Reads messages until `count` arrived, then drops the connection. */
async function readThenDrop(response: Response, count: number): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  const iterator = parseSse(response.body!)[Symbol.asyncIterator]();
  while (messages.length < count) messages.push((await iterator.next()).value as SseMessage);
  await iterator.return?.(undefined);
  await response.body!.cancel().catch(() => {});
  return messages;
}

async function readAll(response: Response): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of parseSse(response.body!)) messages.push(message);
  return messages;
}

const resume = (app: ReturnType<typeof makeApp>["app"], streamId: string, lastEventId: string | null, key = KEY) =>
  app.fetch(
    new Request(`http://isol8.test/execute/stream/${streamId}`, {
      headers: { authorization: `Bearer ${key}`, ...(lastEventId === null ? {} : { "last-event-id": lastEventId }) },
    }),
  );

const dataOf = (messages: SseMessage[]) => messages.map((m) => (JSON.parse(m.data) as { type: string; data: unknown }).type === "stdout" ? (JSON.parse(m.data) as { data: string }).data : (JSON.parse(m.data) as { type: string }).type);

describe("resumable event streams", () => {
  test("after a dropped connection, Last-Event-ID gets the missing events of the running execution exactly once", async () => {
    const { engine, go } = gatedEngine();
    const { app } = makeApp(parseConfig({}), engine);
    const first = await call(app, "POST", "/execute/stream", body);
    const streamId = first.headers.get("x-stream-id")!;
    expect(streamId).toBeTruthy();
    const seen = await readThenDrop(first, 2);
    expect(seen.map((m) => m.id)).toEqual(["1", "2"]);
    go(); // the program goes on while no one reads
    const rest = await readAll(await resume(app, streamId, "2"));
    expect(rest.map((m) => m.id)).toEqual(["3", "4", "5"]);
    expect(dataOf([...seen, ...rest])).toEqual(["a", "b", "c", "d", "exit"]);
  });

  test("a just-finished execution's stream replays from any kept id; no header means from the start", async () => {
    const { app } = makeApp();
    const first = await call(app, "POST", "/execute/stream", body);
    const streamId = first.headers.get("x-stream-id")!;
    expect((await readAll(first)).map((m) => m.id)).toEqual(["1", "2"]);
    expect((await readAll(await resume(app, streamId, "1"))).map((m) => m.id)).toEqual(["2"]);
    expect((await readAll(await resume(app, streamId, "2"))).map((m) => m.id)).toEqual([]);
    expect((await readAll(await resume(app, streamId, null))).map((m) => m.id)).toEqual(["1", "2"]);
  });

  test("another key's stream, an unknown one, an evicted one → 404; a bad Last-Event-ID → 400", async () => {
    const streams = createStreamBuffers({ keepMs: 60_000, maxStreams: 1, maxBytes: 1 << 20 });
    const { app } = makeApp(parseConfig({}), undefined, { keys: [KEY, "other-key"], streams });
    const first = await call(app, "POST", "/execute/stream", body);
    const streamId = first.headers.get("x-stream-id")!;
    await readAll(first);
    expect((await resume(app, streamId, "1", "other-key")).status).toBe(404);
    expect((await resume(app, "no-such-stream", "1")).status).toBe(404);
    expect((await resume(app, streamId, "one")).status).toBe(400);
    await readAll(await call(app, "POST", "/execute/stream", body)); // maxStreams 1: the first is evicted
    expect((await resume(app, streamId, "1")).status).toBe(404);
  });

  test("a stream no one resumes within streamResumeMs stops its program", async () => {
    const { engine, stopped } = gatedEngine();
    const { app } = makeApp(parseConfig({ server: { streamResumeMs: 20 } }), engine);
    await readThenDrop(await call(app, "POST", "/execute/stream", body), 1);
    await stopped; // resolves only through the abort
  });

  test("still works: a client that resumes within the window keeps the program running", async () => {
    const { engine, go } = gatedEngine();
    let abortedEarly = false;
    const wrapped = engine.executeStream;
    engine.executeStream = (request, context?: { signal?: AbortSignal }) => {
      context?.signal?.addEventListener("abort", () => (abortedEarly = true));
      return (wrapped as (r: typeof request, c?: { signal?: AbortSignal }) => ReturnType<typeof wrapped>)(request, context);
    };
    const { app } = makeApp(parseConfig({ server: { streamResumeMs: 600_000 } }), engine);
    const first = await call(app, "POST", "/execute/stream", body);
    const streamId = first.headers.get("x-stream-id")!;
    await readThenDrop(first, 2);
    const resumed = resume(app, streamId, "2");
    go();
    expect(dataOf(await readAll(await resumed))).toEqual(["c", "d", "exit"]);
    expect(abortedEarly).toBe(false);
  });
});

describe("stopping a stream on purpose", () => {
  test("DELETE /execute/stream/{id} stops the program at once, whatever the resume window; another key's is 404 and runs on", async () => {
    const { engine, stopped } = gatedEngine();
    let abortedByOther = false;
    const { app } = makeApp(parseConfig({ server: { streamResumeMs: 600_000 } }), engine, { keys: [KEY, "other-key"] });
    const first = await call(app, "POST", "/execute/stream", body);
    const streamId = first.headers.get("x-stream-id")!;
    await readThenDrop(first, 1);
    const other = await app.fetch(new Request(`http://isol8.test/execute/stream/${streamId}`, { method: "DELETE", headers: { authorization: "Bearer other-key" } }));
    expect(other.status).toBe(404);
    void stopped.then(() => (abortedByOther = true));
    await Bun.sleep(0);
    expect(abortedByOther).toBe(false);
    const own = await app.fetch(new Request(`http://isol8.test/execute/stream/${streamId}`, { method: "DELETE", headers: { authorization: `Bearer ${KEY}` } }));
    expect(own.status).toBe(200);
    expect(await own.json()).toEqual({ stopped: true });
    await stopped; // resolves only through the abort
  });
});
