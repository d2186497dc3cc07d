import { describe, expect, test } from "bun:test";
import { defaultConfig } from "../config/schema";
import { parseConfig } from "../config/load";
import type { ExecutionResult } from "../protocol/execution";
import { call, fakeEngine, KEY, makeApp } from "../../test/server-fixtures";

describe("auth", () => {
  test("/health needs no key", async () => {
    const { app } = makeApp();
    const response = await call(app, "GET", "/health", undefined, null);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", version: "1.2.3" });
  });

  test("no header → 401, wrong key → 403, right key → 200", async () => {
    const { app } = makeApp();
    const body = { request: { code: "1" } };
    expect((await call(app, "POST", "/execute", body, null)).status).toBe(401);
    expect((await call(app, "POST", "/execute", body, "nope")).status).toBe(403);
    expect((await call(app, "POST", "/execute", body, `${KEY}x`)).status).toBe(403);
    const ok = await call(app, "POST", "/execute", body);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as ExecutionResult).stdout).toBe("ran 1");
  });

  test("every route but /health needs the key", async () => {
    const { app } = makeApp();
    for (const [method, path] of [["GET", "/sessions"], ["POST", "/cleanup"], ["GET", "/file?sessionId=a&path=x"], ["DELETE", "/session/a"]]) {
      expect((await call(app, method!, path!, undefined, null)).status).toBe(401);
    }
  });
});

describe("validation", () => {
  test("bad bodies → 400 with path: message lines", async () => {
    const { app } = makeApp();
    const bad = await call(app, "POST", "/execute", { request: { code: 5, runtime: "cobol" }, extra: 1 });
    expect(bad.status).toBe(400);
    const text = ((await bad.json()) as { error: { code: string; message: string } }).error.message;
    expect(text).toContain("request.code:");
    expect(text).toContain("request.runtime:");
    expect(text).toContain("extra: unknown key");
    expect((await call(app, "POST", "/execute", "{not json")).status).toBe(400);
    expect((await call(app, "POST", "/execute", "")).status).toBe(400);
    expect((await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "bad id!" })).status).toBe(400);
  });

  test("a body over the limit → 413", async () => {
    const config = parseConfig({ server: { maxBodySize: "1k" } });
    const { app } = makeApp(config);
    const response = await call(app, "POST", "/execute", { request: { code: "x".repeat(5000) } });
    expect(response.status).toBe(413);
  });

  test("unknown routes → 404; a known route with another method → 405 (app-conventions.test.ts has the bodies)", async () => {
    const { app } = makeApp();
    expect((await call(app, "GET", "/nope")).status).toBe(404);
    expect((await call(app, "GET", "/execute")).status).toBe(405);
  });

  test("a request the engine rejects on /execute/stream is a 400, not an event", async () => {
    const { app } = makeApp();
    expect((await call(app, "POST", "/execute/stream", { request: { code: "invalid" } })).status).toBe(400);
  });
});

describe("policy clamps (403 naming the option)", () => {
  const cases: [string, unknown][] = [
    ["network", { network: "host" }],
    ["image", { image: "evil/image:latest" }],
    ["security.seccomp", { security: { seccomp: "unconfined" } }],
    ["security.customProfilePath", { security: { seccomp: "custom", customProfilePath: "/etc/shadow" } }],
    ["memoryLimit", { memoryLimit: "8g" }],
    ["timeoutMs", { timeoutMs: 3_600_000 }],
    ["pidsLimit", { pidsLimit: 100000 }],
  ];

  test("client allow patterns need server.allowClientNetworkPatterns; deny patterns are always accepted", async () => {
    const { app } = makeApp();
    const widen = await call(app, "POST", "/execute", { request: { code: "1", network: "filtered", allow: [".*"] } });
    expect(widen.status).toBe(403);
    expect(((await widen.json()) as { error: { code: string; field: string } }).error).toMatchObject({ code: "policy-denied", field: "allow" });
    expect((await call(app, "POST", "/execute", { request: { code: "1", network: "filtered", deny: ["evil"] } })).status).toBe(200);
    const open = makeApp(parseConfig({ server: { allowClientNetworkPatterns: true } }));
    expect((await call(open.app, "POST", "/execute", { request: { code: "1", network: "filtered", allow: ["x"] } })).status).toBe(200);
  });
  for (const [option, options] of cases) {
    test(`${option}`, async () => {
      const { app, engine } = makeApp();
      const response = await call(app, "POST", "/execute", { request: { code: "1" }, options });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string; field: string } }).error).toMatchObject({ code: "policy-denied", field: option });
      expect(engine.seen).toHaveLength(0);
    });
  }

  test("the same limits in the request itself are clamped too", async () => {
    const { app } = makeApp();
    expect((await call(app, "POST", "/execute", { request: { code: "1", network: "host" } })).status).toBe(403);
    expect((await call(app, "POST", "/execute", { request: { code: "1", memoryLimit: "4g" } })).status).toBe(403);
  });

  test("still works: lower limits, strict seccomp and a built-in image pass", async () => {
    const { app, engine } = makeApp();
    const options = { memoryLimit: "128m", timeoutMs: 1000, security: { seccomp: "strict" }, image: "isol8:python", network: "none" };
    expect((await call(app, "POST", "/execute", { request: { code: "1" }, options })).status).toBe(200);
    expect(engine.seen[0]).toMatchObject({ memoryLimit: "128m", timeoutMs: 1000, image: "isol8:python", network: "none" });
  });

  test("the server's config can allow host networking and higher limits", async () => {
    const config = parseConfig({ server: { allowHostNetwork: true, limits: { memoryLimit: "8g" } } });
    const { app } = makeApp(config);
    expect((await call(app, "POST", "/execute", { request: { code: "1" }, options: { network: "host", memoryLimit: "8g" } })).status).toBe(200);
  });
});

describe("overload", () => {
  test("beyond maxConcurrent + maxQueue → 429 with Retry-After", async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const config = parseConfig({ maxConcurrent: 1, server: { maxQueue: 1 } });
    const { app } = makeApp(config, fakeEngine({ hold }));
    const first = call(app, "POST", "/execute", { request: { code: "1" } });
    const second = call(app, "POST", "/execute", { request: { code: "2" } });
    await Bun.sleep(10);
    const third = await call(app, "POST", "/execute", { request: { code: "3" } });
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBe("1");
    release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
  });
});

describe("streaming and sessions", () => {
  test("SSE: one data frame per event", async () => {
    const { app } = makeApp();
    const response = await call(app, "POST", "/execute/stream", { request: { code: "1" } });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const frames = (await response.text()).split("\n\n").filter(Boolean);
    expect(frames.map((f) => f.split("\n")[0])).toEqual(["id: 1", "id: 2"]);
    expect(frames.map((f) => JSON.parse(f.split("\n")[1]!.slice("data: ".length)).type)).toEqual(["stdout", "exit"]);
  });

  test("files need an existing session (404), then round trip", async () => {
    const { app } = makeApp();
    const content = Buffer.from("hello").toString("base64");
    expect((await call(app, "POST", "/file", { sessionId: "s1", path: "/sandbox/a", content })).status).toBe(404);
    expect((await call(app, "GET", "/file?sessionId=s1&path=/sandbox/a")).status).toBe(404);
    expect((await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "s1" })).status).toBe(200);
    expect((await call(app, "POST", "/file", { sessionId: "s1", path: "/sandbox/a", content })).status).toBe(200);
    const read = await call(app, "GET", "/file?sessionId=s1&path=/sandbox/a");
    expect(((await read.json()) as { content: string }).content).toBe(content);
  });

  test("sessions: list, delete (404 for unknown), maxSessions → 429", async () => {
    const { app } = makeApp();
    await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "a" });
    await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "b" });
    expect((await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "c" })).status).toBe(429);
    const list = (await (await call(app, "GET", "/sessions")).json()) as { sessions: { id: string }[] };
    expect(list.sessions.map((s) => s.id).sort()).toEqual(["a", "b"]);
    expect((await call(app, "DELETE", "/session/a")).status).toBe(200);
    expect((await call(app, "DELETE", "/session/a")).status).toBe(404);
  });

  test("a file over maxFileSize → 413", async () => {
    const { app } = makeApp(parseConfig({ server: { maxFileSize: "1k" } }));
    await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "s" });
    const content = Buffer.alloc(2048).toString("base64");
    expect((await call(app, "POST", "/file", { sessionId: "s", path: "/sandbox/big", content })).status).toBe(413);
  });

  test("after close(): 503 for work, /health says shutting down", async () => {
    const { app } = makeApp();
    app.close();
    expect((await call(app, "POST", "/execute", { request: { code: "1" } })).status).toBe(503);
    expect((await call(app, "GET", "/health", undefined, null)).status).toBe(503);
  });

  test("unexpected errors are a bare 500 that leaks nothing", async () => {
    const engine = fakeEngine();
    engine.execute = async () => {
      throw new Error("secret internal detail /var/lib/x");
    };
    const { app } = makeApp(defaultConfig(), engine);
    const response = await call(app, "POST", "/execute", { request: { code: "1" } });
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('{"error":{"code":"internal","message":"internal error"}}');
  });
});
