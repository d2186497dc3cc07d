// Who gets in, and how connections end: keys, the failure throttle, the in-flight cap, the idle timeout.
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load";
import { defaultConfig } from "../config/schema";
import { call, fakeEngine, KEY, makeApp } from "../../test/server-fixtures";
import type { Peer } from "./auth-throttle";

const body = { request: { code: "1" } };

describe("refusals close the connection without reading the body", () => {
  test("401 (with WWW-Authenticate), 403 and 413 answer Connection: close", async () => {
    const { app } = makeApp(parseConfig({ server: { maxBodySize: "1k" } }));
    const missing = await call(app, "POST", "/execute", body, null);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe("Bearer");
    expect(missing.headers.get("connection")).toBe("close");
    const wrong = await call(app, "POST", "/execute", body, "nope");
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get("connection")).toBe("close");
    const large = await call(app, "POST", "/execute", { request: { code: "x".repeat(5000) } });
    expect(large.status).toBe(413);
    expect(large.headers.get("connection")).toBe("close");
  });

  test("a refused request's body is never read", async () => {
    const { app } = makeApp();
    let pulled = false;
    const stream = new ReadableStream({ pull: () => void (pulled = true) }, { highWaterMark: 0 });
    const request = new Request("http://isol8.test/execute", { method: "POST", body: stream, headers: { "content-length": "104857600" } });
    const response = await app.fetch(request);
    expect(response.status).toBe(401);
    expect(pulled).toBe(false);
    expect(request.bodyUsed).toBe(false);
  });

  test("any refusal before admission closes, even without a body (an unknown route)", async () => {
    const { app } = makeApp();
    const unknown = await call(app, "GET", "/nope", undefined, null);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("connection")).toBe("close");
  });

  test("still works: successful answers, /health and an admitted client's mistakes keep the connection", async () => {
    const { app } = makeApp();
    const ok = await call(app, "POST", "/execute", body);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("connection")).toBeNull();
    expect((await call(app, "GET", "/health", undefined, null)).headers.get("connection")).toBeNull();
    const invalid = await call(app, "POST", "/execute", { request: { code: 1 } });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get("connection")).toBeNull();
  });
});

describe("several keys", () => {
  test("every configured key is accepted; others are 403", async () => {
    const { app } = makeApp(defaultConfig(), fakeEngine(), { keys: ["key-a", "key-b"] });
    expect((await call(app, "POST", "/execute", body, "key-a")).status).toBe(200);
    expect((await call(app, "POST", "/execute", body, "key-b")).status).toBe(200);
    expect((await call(app, "POST", "/execute", body, "key-c")).status).toBe(403);
  });

  test("the audit principal is the key's, never the key", async () => {
    const engine = fakeEngine();
    const contexts: unknown[] = [];
    const execute = engine.execute.bind(engine);
    engine.execute = async (request, context?: unknown) => {
      contexts.push(context);
      return execute(request);
    };
    const { app } = makeApp(defaultConfig(), engine, { keys: ["key-a", "key-b"] });
    await call(app, "POST", "/execute", body, "key-a");
    await call(app, "POST", "/execute", body, "key-b");
    const principals = contexts.map((c) => (c as { audit: { principal: string } }).audit.principal);
    expect(principals[0]).toMatch(/^key:[0-9a-f]{12}$/);
    expect(principals[1]).toMatch(/^key:[0-9a-f]{12}$/);
    expect(principals[0]).not.toBe(principals[1]);
  });
});

describe("failed authentications are throttled per address", () => {
  const config = parseConfig({ server: { authFailureLimit: 5, authFailureWindowMs: 60_000 } });
  const from = (address: string, port: number) => ({ peer: { address, port } satisfies Peer });

  function setup() {
    let clock = 0;
    const made = makeApp(config, fakeEngine(), { now: () => clock });
    return { ...made, advance: (ms: number) => (clock += ms) };
  }

  test("after 5 wrong keys: 429 with Retry-After and Connection: close, the key no longer checked; after the window, 403 again", async () => {
    const { app, advance } = setup();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await call(app, "POST", "/execute", body, `guess-${i}`, from("203.0.113.9", 1000 + i))).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429, 429, 429]);
    const throttled = await call(app, "POST", "/execute", body, "guess-x", from("203.0.113.9", 2000));
    expect(throttled.headers.get("retry-after")).toBe("60");
    expect(throttled.headers.get("connection")).toBe("close");
    // Not even the right key is checked on a new connection: a 200 would tell it from the wrong ones.
    expect((await call(app, "POST", "/execute", body, KEY, from("203.0.113.9", 2001))).status).toBe(429);
    advance(60_000);
    expect((await call(app, "POST", "/execute", body, "guess-y", from("203.0.113.9", 2002))).status).toBe(403);
    expect((await call(app, "POST", "/execute", body, KEY, from("203.0.113.9", 2003))).status).toBe(200);
  });

  test("still works: a valid key on a connection it already used, and from any other address", async () => {
    const { app } = setup();
    const client = from("203.0.113.9", 5555);
    expect((await call(app, "POST", "/execute", body, KEY, client)).status).toBe(200);
    for (let i = 0; i < 20; i++) await call(app, "POST", "/execute", body, `guess-${i}`, from("203.0.113.9", 6000 + i));
    expect((await call(app, "POST", "/execute", body, KEY, client)).status).toBe(200);
    expect((await call(app, "POST", "/execute", body, KEY, from("198.51.100.1", 1))).status).toBe(200);
    expect((await call(app, "GET", "/health", undefined, null, from("203.0.113.9", 7000))).status).toBe(200);
  });

  test("missing keys are not guesses: 401s never throttle", async () => {
    const { app } = setup();
    for (let i = 0; i < 20; i++) expect((await call(app, "POST", "/execute", body, null, from("203.0.113.9", i))).status).toBe(401);
    expect((await call(app, "POST", "/execute", body, KEY, from("203.0.113.9", 99))).status).toBe(200);
  });

  test("failures are logged with the address, never the presented key", async () => {
    const { app, logged } = setup();
    for (let i = 0; i < 7; i++) await call(app, "POST", "/execute", body, `s3cret-guess-${i}`, from("203.0.113.9", i));
    expect(logged.filter((line) => line.startsWith("auth:"))).toHaveLength(5);
    expect(logged.join("\n")).toContain("203.0.113.9");
    expect(logged.join("\n")).not.toContain("s3cret-guess");
  });
});

describe("the connection gate is told when a connection authenticates", () => {
  const config = parseConfig({ server: { authFailureLimit: 1, metricsToken: "metrics-token-0123456789" } });
  const metrics = async () => ({ contentType: "text/plain", body: "" });

  test.each<[string, string, string, unknown, string | null, boolean]>([
    ["admitted with a key", "POST", "/execute", body, KEY, true],
    ["admitted with a key, then an invalid body (400)", "POST", "/execute", { request: { code: 1 } }, KEY, true],
    ["the metrics token on /metrics", "GET", "/metrics", undefined, "metrics-token-0123456789", true],
    ["no key (401)", "POST", "/execute", body, null, false],
    ["a wrong key (403)", "POST", "/execute", body, "wrong", false],
    ["the metrics token anywhere else (403)", "GET", "/sessions", undefined, "metrics-token-0123456789", false],
    ["an open route without a key", "GET", "/health", undefined, null, false],
    ["an open route with a key (nothing admitted)", "GET", "/health", undefined, KEY, false],
    ["an unknown route", "GET", "/nope", undefined, KEY, false],
  ])("%s", async (_name, method, path, payload, key, expected) => {
    const { app } = makeApp(config, fakeEngine(), { metrics });
    let told = 0;
    await call(app, method, path, payload, key, { peer: { address: "198.51.100.4", port: 1 }, authenticated: () => void told++ });
    expect(told).toBe(expected ? 1 : 0);
  });

  test("a throttled address's new connection (429) is not authenticated, even with the right key", async () => {
    const { app } = makeApp(config);
    await call(app, "POST", "/execute", body, "wrong", { peer: { address: "198.51.100.4", port: 1 } });
    let told = 0;
    const throttled = await call(app, "POST", "/execute", body, KEY, { peer: { address: "198.51.100.4", port: 2 }, authenticated: () => void told++ });
    expect(throttled.status).toBe(429);
    expect(told).toBe(0);
  });
});

describe("requests in flight are capped", () => {
  test("over server.maxRequestsInFlight: 503 with Retry-After, closed; /health still answers", async () => {
    const { app, engine } = makeApp(parseConfig({ server: { maxRequestsInFlight: 10 } }));
    const over = await call(app, "POST", "/execute", body, KEY, { inFlight: 11 });
    expect(over.status).toBe(503);
    expect(over.headers.get("retry-after")).toBe("1");
    expect(over.headers.get("connection")).toBe("close");
    expect(engine.seen).toHaveLength(0);
    expect((await call(app, "GET", "/health", undefined, null, { inFlight: 11 })).status).toBe(200);
    expect((await call(app, "POST", "/execute", body, KEY, { inFlight: 10 })).status).toBe(200);
  });
});

describe("the idle timeout is lifted only while an admitted request works", () => {
  const recorder = () => {
    const set: number[] = [];
    return { set, context: { setIdleTimeout: (seconds: number) => void set.push(seconds) } };
  };
  const config = parseConfig({ server: { idleTimeoutMs: 4000 } });

  test("collected execution: lifted after the body is read, back to 4 s once answered", async () => {
    const { app } = makeApp(config);
    const { set, context } = recorder();
    expect((await call(app, "POST", "/execute", body, KEY, context)).status).toBe(200);
    expect(set).toEqual([0, 4]);
  });

  test("streamed execution: lifted for the stream, back when it ends", async () => {
    const { app } = makeApp(config);
    const { set, context } = recorder();
    const response = await call(app, "POST", "/execute/stream", body, KEY, context);
    await response.text();
    expect(set).toEqual([0, 4]);
  });

  test("refused and invalid requests never lift it", async () => {
    const { app } = makeApp(config);
    const { set, context } = recorder();
    await call(app, "POST", "/execute", body, null, context);
    await call(app, "POST", "/execute", body, "wrong", context);
    await call(app, "POST", "/execute", { request: { code: 1 } }, KEY, context);
    await call(app, "GET", "/health", undefined, null, context);
    expect(set).toEqual([]);
  });
});

describe("event streams send heartbeats while the program is silent", () => {
  test("a heartbeat comment arrives before the program's first output; the events follow unchanged", async () => {
    let speak!: () => void;
    const silence = new Promise<void>((resolve) => (speak = resolve));
    const engine = fakeEngine();
    const stream = engine.executeStream.bind(engine);
    engine.executeStream = (request) =>
      (async function* () {
        await silence;
        yield* stream(request);
      })();
    const { app } = makeApp(defaultConfig(), engine, { heartbeatMs: 5 });
    const response = await call(app, "POST", "/execute/stream", body);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes(": heartbeat\n\n")) text += decoder.decode((await reader.read()).value);
    expect(text).not.toContain("data:");
    speak();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    const data = text.split("\n\n").flatMap((frame) => frame.split("\n").filter((line) => line.startsWith("data: ")));
    expect(data.map((line) => JSON.parse(line.slice(6)).type)).toEqual(["stdout", "exit"]);
  });
});

describe("a client that leaves an event stream", () => {
  test("stops the program (streamResumeMs 0: at once); its remaining events are dropped without an error in the log", async () => {
    let aborted!: () => void;
    const stopped = new Promise<void>((resolve) => (aborted = resolve));
    const engine = fakeEngine();
    engine.executeStream = (_request, context?: { signal?: AbortSignal }) =>
      (async function* () {
        context?.signal?.addEventListener("abort", () => aborted());
        yield { type: "stdout" as const, data: "first" };
        await stopped;
        yield { type: "stdout" as const, data: "after the client left" };
      })();
    const { app, logged } = makeApp(parseConfig({ server: { streamResumeMs: 0 } }), engine);
    const response = await call(app, "POST", "/execute/stream", body);
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    await stopped;
    await Bun.sleep(0);
    expect(logged.filter((line) => line.startsWith("unexpected error"))).toEqual([]);
  });
});
