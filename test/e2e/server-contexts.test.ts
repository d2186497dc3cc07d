// Contexts over `isol8 serve` (the compiled binary): curl collected and SSE, RemoteIsol8, the
// Debian-package data image, cancel by id, a client leaving a stream, contexts per key, limits.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { RemoteIsol8 } from "../../src/client/remote";
import { createDockerClient } from "../../src/engine/docker";
import { testEngine } from "../helpers";
import { ensureDataImage } from "../docker/data-image";
import { serverProcesses, type StartedServer } from "./server-process";

const KEY = "contexts-e2e-key";
const OTHER = "contexts-e2e-other";
const servers = serverProcesses("isol8-contexts-");
let server: StartedServer;
let dataImage: string;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function curl(path: string, body?: unknown, key = KEY): string {
  const args = ["-sS", "-N", "-H", `authorization: Bearer ${key}`, "-H", "content-type: application/json"];
  if (body !== undefined) args.push("-d", JSON.stringify(body));
  const run = spawnSync("curl", [...args, `${server.url}${path}`], { encoding: "utf8", timeout: 120_000 });
  if (run.status !== 0) throw new Error(`curl failed: ${run.stderr}`);
  return run.stdout;
}

beforeAll(async () => {
  const engine = testEngine();
  dataImage = await ensureDataImage(engine);
  await engine.stop();
  server = await servers.start({ keys: [KEY, OTHER], config: { server: { allowedImages: [dataImage], maxContextsPerSession: 3 } } });
}, 1_200_000);
afterAll(() => servers.cleanup());

describe("contexts over isol8 serve", () => {
  test("curl: x = 41, then x + 1 gives text/plain 42, collected and as SSE", () => {
    const created = JSON.parse(curl("/sessions/curl-session/contexts", { runtime: "python" })) as { context: { id: string } };
    const cell = `/sessions/curl-session/contexts/${created.context.id}`;
    expect(JSON.parse(curl(`${cell}/run`, { code: "x = 41" })).status).toBe("ok");
    const collected = JSON.parse(curl(`${cell}/run`, { code: "x + 1" })) as { results: Record<string, string>[] };
    expect(collected.results).toEqual([{ "text/plain": "42" }]);
    const sse = curl(`${cell}/run/stream`, { code: "print('hi')\nx + 1" });
    const events = sse
      .split("\n\n")
      .filter((frame) => frame.startsWith("data: "))
      .map((frame) => JSON.parse(frame.slice(6)) as { type: string; data: unknown });
    expect(events.map((e) => e.type)).toEqual(["start", "stdout", "result", "done"]);
    expect(events[2]!.data).toEqual({ "text/plain": "42" });
  });

  test("curl: matplotlib in the data image returns image/png, collected and as SSE", () => {
    const created = JSON.parse(curl("/sessions/plot-session/contexts", { runtime: "python", image: dataImage })) as { context: { id: string } };
    const cell = `/sessions/plot-session/contexts/${created.context.id}`;
    const code = "import matplotlib.pyplot as plt; plt.plot([1, 2, 3])";
    const collected = JSON.parse(curl(`${cell}/run`, { code })) as { results: Record<string, string>[] };
    const png = collected.results.find((b) => b["image/png"])!;
    expect(Buffer.from(png["image/png"]!, "base64").subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const sse = curl(`${cell}/run/stream`, { code });
    const results = sse
      .split("\n\n")
      .filter((frame) => frame.startsWith("data: "))
      .map((frame) => JSON.parse(frame.slice(6)) as { type: string; data: Record<string, string> })
      .filter((e) => e.type === "result" && e.data["image/png"]);
    expect(Buffer.from(results[0]!.data["image/png"]!, "base64").subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  test("an image the server does not allow is refused", async () => {
    const remote = new RemoteIsol8({ host: server.url, apiKey: KEY, sessionId: "refused" });
    await expect(remote.createContext({ runtime: "python", image: "debian:bookworm-slim" })).rejects.toThrow(/HTTP 403/);
  });

  test("RemoteIsol8: state, rich results streamed in order, restart, close, list", async () => {
    const remote = new RemoteIsol8({ host: server.url, apiKey: KEY, sessionId: "remote-session" });
    const ctx = await remote.createContext({ runtime: "python" });
    await ctx.run("y = 2");
    const seen: string[] = [];
    const r = await ctx.run("print('a')\ndisplay(y)\ny * 21", { onStdout: (t) => seen.push(t), onResult: (b) => seen.push(b["text/plain"]) });
    expect(seen).toEqual(["a\n", "2", "42"]);
    expect(r.results.map((b) => b["text/plain"])).toEqual(["2", "42"]);
    expect((await remote.listContexts()).map((c) => c.id)).toEqual([ctx.id]);
    await ctx.restart();
    expect((await ctx.run("y")).error?.name).toBe("NameError");
    await ctx.close();
    expect(await remote.listContexts()).toEqual([]);
    await remote.stop();
  });

  test("cancel by execution id over HTTP interrupts exactly that cell and keeps the state", async () => {
    const remote = new RemoteIsol8({ host: server.url, apiKey: KEY, sessionId: "cancel-session" });
    const ctx = await remote.createContext();
    const other = await remote.createContext();
    await ctx.run("kept = 'yes'");
    let id = "";
    const running = ctx.run("import time\nprint('go', flush=True)\ntime.sleep(60)", { onStart: (executionId) => (id = executionId) });
    while (!id) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await remote.cancel("not-a-running-cell")).toBe(false);
    expect(await remote.cancel(id)).toBe(true);
    const r = await running;
    expect(r).toMatchObject({ executionId: id, interrupted: true, status: "error" });
    expect(r.error?.name).toBe("KeyboardInterrupt");
    expect((await ctx.run("kept")).results[0]!["text/plain"]).toBe("'yes'");
    expect((await other.run("1 + 1")).results[0]!["text/plain"]).toBe("2");
    await remote.stop();
  });

  test("a client that leaves a streamed cell cancels it: the next cell runs at once with the state kept", async () => {
    const remote = new RemoteIsol8({ host: server.url, apiKey: KEY, sessionId: "leave-session" });
    const ctx = await remote.createContext();
    await ctx.run("z = 'kept'");
    const abort = new AbortController();
    const leaving = ctx.run("import time\nprint('go', flush=True)\ntime.sleep(60)", { signal: abort.signal, onStdout: () => abort.abort() }).catch((e: Error) => e);
    await leaving;
    // The left cell sleeps 60 s: the next one answers only because the server interrupted it.
    const next = await ctx.run("z");
    expect(next.results[0]!["text/plain"]).toBe("'kept'");
    await remote.stop();
  });

  test("another key cannot list, run in or delete the contexts of a session", async () => {
    const mine = new RemoteIsol8({ host: server.url, apiKey: KEY, sessionId: "private" });
    const ctx = await mine.createContext();
    await ctx.run("secret = 1");
    const base = `/sessions/private/contexts`;
    for (const [method, path, body] of [
      ["GET", base, undefined],
      ["POST", `${base}/${ctx.id}/run`, { code: "secret" }],
      ["DELETE", `${base}/${ctx.id}`, undefined],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${OTHER}`, "content-type": "application/json" },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(response.status).toBe(404);
    }
    expect((await ctx.run("secret")).results[0]!["text/plain"]).toBe("1");
    await mine.stop();
  });

  test("server.maxContextsPerSession caps contexts (429)", async () => {
    const remote = new RemoteIsol8({ host: server.url, apiKey: KEY, sessionId: "capped" });
    for (let i = 0; i < 3; i++) await remote.createContext();
    await expect(remote.createContext()).rejects.toThrow(/HTTP 429/);
    await remote.stop();
  });

  test("deleting the session removes its container with every context process", async () => {
    const remote = new RemoteIsol8({ host: server.url, apiKey: KEY, sessionId: "deleted" });
    const ctx = await remote.createContext();
    await ctx.run("import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True)");
    const sessions = (await (await fetch(`${server.url}/sessions`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
      sessions: { id: string; containerId: string }[];
    };
    const id = sessions.sessions.find((s) => s.id === "deleted")!.containerId;
    await remote.stop();
    expect(await createDockerClient().inspectContainer(id)).toBeNull();
  });
});

describe("contexts under a store key's policy and quotas", () => {
  const post = async (path: string, body: unknown, key = KEY) =>
    fetch(`${server.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });

  test("a cell over the key's timeout is 403 policy-denied; an image the key does not allow is refused; a second cell at once over maxConcurrent 1 is 429 quota-exceeded", async () => {
    const created = (await (await post("/keys", { name: "cells", policy: { limits: { timeoutMs: 20_000 }, allowedImages: [] }, quotas: { maxConcurrent: 1 } })).json()) as {
      key: string;
    };
    const key = created.key;
    const refusedImage = await post("/sessions/keyed-a/contexts", { runtime: "python", image: dataImage }, key);
    expect(refusedImage.status).toBe(403);
    const a = (await (await post("/sessions/keyed-a/contexts", { runtime: "python" }, key)).json()) as { context: { id: string } };
    const b = (await (await post("/sessions/keyed-b/contexts", { runtime: "python" }, key)).json()) as { context: { id: string } };
    const cellA = `/sessions/keyed-a/contexts/${a.context.id}/run`;
    const cellB = `/sessions/keyed-b/contexts/${b.context.id}/run`;

    const over = await post(cellA, { code: "1", timeoutMs: 30_000 }, key);
    expect(over.status).toBe(403);
    expect(((await over.json()) as { error: { code: string; field: string } }).error).toMatchObject({ code: "policy-denied", field: "timeoutMs" });

    const long = post(cellA, { code: "import time; time.sleep(3); 7" }, key);
    await Bun.sleep(1_000);
    const second = await post(cellB, { code: "1" }, key);
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe("quota-exceeded");
    // Still works: the first cell finishes, and once it has, the second key's cell runs.
    const first = (await (await long).json()) as { results: Record<string, string>[] };
    expect(first.results).toEqual([{ "text/plain": "7" }]);
    const again = (await (await post(cellB, { code: "1 + 1" }, key)).json()) as { results: Record<string, string>[] };
    expect(again.results).toEqual([{ "text/plain": "2" }]);
    for (const id of ["keyed-a", "keyed-b"]) await fetch(`${server.url}/session/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${key}` } });
  }, 120_000);
});
