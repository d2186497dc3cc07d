// What an operator sees of `isol8 serve` (the compiled binary, real Docker): the API description,
// metrics, readiness, structured logs with request ids (also in the audit record), the HTTP
// conventions, and event streams resumed after a dropped connection.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { parseSse, type SseMessage } from "../../src/protocol/sse";
import { runBinary } from "../helpers";
import { serverProcesses, type StartedServer } from "./server-process";

const KEY = "observability-e2e-key";
const servers = serverProcesses("isol8-observability-");
const auditDir = mkdtempSync(join(tmpdir(), "isol8-observability-audit-"));
let server: StartedServer;

const auth = { authorization: `Bearer ${KEY}` };
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { method: "POST", headers: { ...auth, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

beforeAll(async () => {
  server = await servers.start({
    keys: [KEY],
    config: { server: { logFormat: "json" }, audit: { enabled: true, destination: "filesystem", logDir: auditDir } },
  });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  servers.cleanup();
  rmSync(auditDir, { recursive: true, force: true });
});

describe("isol8 serve: API description", () => {
  test("GET /openapi.json passes the OpenAPI 3.1 validator and is what `isol8 openapi` prints", async () => {
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    const served = (await response.json()) as Record<string, unknown>;
    const validator = new Validator();
    const result = await validator.validate(served);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const printed = runBinary(["openapi"]);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(served);
  }, 30_000);
});

describe("isol8 serve: metrics and logs", () => {
  test("after three executions /metrics counts 3 (python, ok); each request is one JSON log line with its id, also in the audit record", async () => {
    for (let i = 1; i <= 3; i++) {
      const response = await post("/execute", { request: { runtime: "python", code: "print(6*7)" } }, { "x-request-id": `obs-run-${i}` });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-request-id")).toBe(`obs-run-${i}`);
      expect(((await response.json()) as { stdout: string }).stdout).toBe("42\n");
    }
    const metrics = await fetch(`${server.url}/metrics`, { headers: auth });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    expect(text).toContain('isol8_executions_total{runtime="python",outcome="ok"} 3');
    expect(text).toContain('isol8_http_requests_total{method="POST",route="/execute",status="200"} 3');
    expect(text).toMatch(/isol8_execution_phase_seconds_count\{phase="run"\} 3/);
    expect(text).toMatch(/isol8_containers_created_total\{runtime="python"\} [1-9]/);
    expect(text).toMatch(/isol8_pool_containers\{runtime="python",state="ready"\} \d/);
    expect(text).toContain("isol8_execution_queue_depth 0");
    expect(text).toContain("isol8_sessions 0");
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);

    const lines = server
      .stderr()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const runs = lines.filter((line) => line.msg === "request" && String(line.requestId).startsWith("obs-run-"));
    expect(runs.map((line) => line.requestId)).toEqual(["obs-run-1", "obs-run-2", "obs-run-3"]);
    for (const line of runs) {
      expect(line).toMatchObject({ level: "info", method: "POST", route: "/execute", status: 200 });
      expect(typeof line.durationMs).toBe("number");
      expect(String(line.principal)).toStartWith("key:");
      expect(Number.isNaN(Date.parse(String(line.time)))).toBe(false);
    }
    const audit = readdirSync(auditDir)
      .flatMap((file) => readFileSync(join(auditDir, file), "utf8").split("\n").filter(Boolean))
      .map((line) => JSON.parse(line) as { requestId?: string });
    expect(audit.map((record) => record.requestId).filter((id) => id?.startsWith("obs-run-"))).toEqual(["obs-run-1", "obs-run-2", "obs-run-3"]);
  }, 60_000);
});

describe("isol8 serve: HTTP conventions", () => {
  test("GET /execute → 405 with Allow: POST; an unknown route and a missing file → JSON 404; a form body → 415", async () => {
    const wrong = await fetch(`${server.url}/execute`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect(await wrong.json()).toMatchObject({ error: { code: "method-not-allowed" } });

    const unknown = await fetch(`${server.url}/nope`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "not-found" } });

    expect((await post("/execute", { request: { code: "print(1)" }, sessionId: "obs-files" })).status).toBe(200);
    const missing = await fetch(`${server.url}/file?sessionId=obs-files&path=/sandbox/none.txt`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "file-refused", reason: "not-found" } });
    expect((await fetch(`${server.url}/session/obs-files`, { method: "DELETE", headers: auth })).status).toBe(200);

    const form = await fetch(`${server.url}/execute`, { method: "POST", headers: { ...auth, "content-type": "application/x-www-form-urlencoded" }, body: "code=print(1)" });
    expect(form.status).toBe(415);
    expect(await form.json()).toMatchObject({ error: { code: "unsupported-media-type" } });
  }, 30_000);
});

describe("isol8 serve: resumable event streams", () => {
  test("a dropped connection resumed with Last-Event-ID gets the missing events exactly once", async () => {
    const code = 'import time\nprint("a", flush=True)\nprint("b", flush=True)\ntime.sleep(1.5)\nprint("c", flush=True)\nprint("d", flush=True)\n';
    const abort = new AbortController();
    const first = await fetch(`${server.url}/execute/stream`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ request: { code } }),
      signal: abort.signal,
    });
    expect(first.status).toBe(200);
    const streamId = first.headers.get("x-stream-id")!;
    const seen: SseMessage[] = [];
    const iterator = parseSse(first.body!)[Symbol.asyncIterator]();
    while (seen.length < 2) seen.push((await iterator.next()).value as SseMessage);
    abort.abort(); // the connection drops while the program sleeps
    await iterator.return?.(undefined).catch(() => {});

    const resumed = await fetch(`${server.url}/execute/stream/${streamId}`, { headers: { ...auth, "last-event-id": seen.at(-1)!.id! } });
    expect(resumed.status).toBe(200);
    const rest: SseMessage[] = [];
    for await (const message of parseSse(resumed.body!)) rest.push(message);
    const all = [...seen, ...rest];
    expect(all.map((m) => m.id)).toEqual(all.map((_, i) => String(i + 1)));
    const events = all.map((m) => JSON.parse(m.data) as { type: string; data: unknown });
    expect(events.filter((e) => e.type === "stdout").map((e) => e.data).join("")).toBe("a\nb\nc\nd\n");
    expect(events.at(-1)).toMatchObject({ type: "exit", data: { exitCode: 0 } });
  }, 60_000);
});

describe("isol8 serve: readiness", () => {
  /** A stand-in Docker endpoint: forwards to the real daemon until closed. */
  function dockerRelay(path: string) {
    const sockets = new Set<Socket>();
    let relay: Server | null = null;
    const open = () =>
      new Promise<void>((resolve) => {
        relay = createServer((client) => {
          const daemon = createConnection("/var/run/docker.sock");
          sockets.add(client).add(daemon);
          client.pipe(daemon).pipe(client);
          const end = () => (client.destroy(), daemon.destroy());
          client.on("error", end).on("close", end);
          daemon.on("error", end).on("close", end);
        }).listen(path, resolve);
      });
    const close = () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        relay?.close(() => resolve());
      });
    return { open, close };
  }

  test("/ready is 200 while Docker answers and flips to 503 with the reason when it does not; /health stays 200", async () => {
    const dir = mkdtempSync(join(tmpdir(), "isol8-ready-"));
    const socket = join(dir, "docker.sock");
    const relay = dockerRelay(socket);
    await relay.open();
    // No warm pool: nothing of this server lives in Docker while its endpoint is cut.
    const cut = await servers.start({ keys: [KEY], config: { poolSize: 0 }, env: { DOCKER_HOST: `unix://${socket}` } });
    try {
      let ready = await fetch(`${cut.url}/ready`);
      for (let i = 0; ready.status !== 200 && i < 50; i++) {
        await Bun.sleep(200);
        ready = await fetch(`${cut.url}/ready`);
      }
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: "ready", checks: { docker: { ok: true }, images: { ok: true }, pool: { ok: true } } });

      await relay.close();
      await Bun.sleep(1_100); // past the readiness cache
      const down = await fetch(`${cut.url}/ready`);
      expect(down.status).toBe(503);
      const body = (await down.json()) as { status: string; reason: string; checks: { docker: { ok: boolean } } };
      expect(body.status).toBe("not ready");
      expect(body.reason).toStartWith("docker: ");
      expect(body.checks.docker.ok).toBe(false);
      expect((await fetch(`${cut.url}/health`)).status).toBe(200);
    } finally {
      await relay.open(); // let it shut down cleanly
      await cut.stop();
      await relay.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
