// The scale-out tier: PostgreSQL and nginx from Debian's packages on loopback, two `isol8 serve`
// instances (the compiled binary) sharing the database, nginx in front with the configuration
// of docs/scale-out.md. Keys, quotas, session affinity, forwarding (MCP sessions too),
// revocation and the loss of an instance, against real containers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { RemoteIsol8 } from "../../src/client/remote";
import { createDockerClient } from "../../src/engine/docker";
import { findContainers, ownerProcessGone, removeContainers } from "../../src/engine/cleanup";
import { TEST_SCOPE } from "../helpers";
import { serverProcesses, type StartedServer } from "../e2e/server-process";
import { nginxConfig } from "./nginx-config";
import { type RunningNginx, type RunningPostgres, startNginx, startPostgres } from "./services";

const ADMIN = "tenants-scale-admin-key";
const servers = serverProcesses("isol8-tenants-scale-");
let pg: RunningPostgres;
let nginx: RunningNginx;
let a: StartedServer;
let b: StartedServer;

const portOf = (url: string) => Number(new URL(url).port);
const headers = (key: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, "content-type": "application/json", ...extra });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function createKey(base: string, body: object): Promise<{ key: string; id: string }> {
  const response = await fetch(`${base}/keys`, { method: "POST", headers: headers(ADMIN), body: JSON.stringify(body) });
  expect(response.status).toBe(201);
  const issued = (await response.json()) as { key: string; info: { id: string } };
  return { key: issued.key, id: issued.info.id };
}

const execute = (base: string, key: string, code: string) =>
  fetch(`${base}/execute`, { method: "POST", headers: headers(key), body: JSON.stringify({ request: { code } }) });

async function usageOf(base: string, key: string) {
  return (await (await fetch(`${base}/usage`, { headers: headers(key) })).json()) as { usage: { concurrent: number; sessions: number } };
}

async function until(check: () => Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
  return Date.now() - start;
}

beforeAll(async () => {
  pg = await startPostgres();
  // A short idle timeout (3 s: Bun closes an idle connection after 3-4 s) that a silent forwarded call outlasts.
  const config = { server: { database: { url: pg.url }, idleTimeoutMs: 3_000 }, poolSize: 0 };
  // Both start at once: the schema migration runs once (the other instance finds nothing to do).
  [a, b] = await Promise.all([servers.start({ keys: [ADMIN], config }), servers.start({ keys: [ADMIN], config })]);
  nginx = await startNginx((port, dir) => nginxConfig([portOf(a.url), portOf(b.url)], port, dir));
}, 120_000);

afterAll(async () => {
  await nginx?.stop();
  await Promise.all([a, b].filter(Boolean).map((s) => (s.child.exitCode === null && s.child.signalCode === null ? s.stop() : Promise.resolve(0))));
  servers.cleanup();
  await pg?.stop();
  // An instance killed by a test leaves its containers: removed here (their owner is gone).
  const docker = createDockerClient();
  const left = (await findContainers(docker, { scope: TEST_SCOPE })).filter(ownerProcessGone);
  await removeContainers(docker, left);
}, 60_000);

describe("scale-out: two instances sharing PostgreSQL behind nginx", () => {
  test("a key created through instance A works on instance B", async () => {
    const { key, id } = await createKey(a.url, { name: "shared", quotas: { maxSessions: 3 } });
    const response = await execute(b.url, key, "print(6 * 7)");
    expect(response.status).toBe(200);
    expect(((await response.json()) as { stdout: string }).stdout).toBe("42\n");
    const listed = (await (await fetch(`${b.url}/keys`, { headers: headers(ADMIN) })).json()) as { keys: { id: string }[] };
    expect(listed.keys.map((k) => k.id)).toContain(id);
    // Still refused: a wrong key on either instance.
    expect((await execute(a.url, `${key.slice(0, -2)}xx`, "print(1)")).status).toBe(403);
  }, 60_000);

  test("a global concurrency quota of 2 holds across both instances: the third execution gets 429 naming the quota", async () => {
    const { key } = await createKey(a.url, { name: "two-at-once", quotas: { maxConcurrent: 2 } });
    const slow = "import time; time.sleep(4); print('done')";
    const first = execute(a.url, key, slow);
    const second = execute(b.url, key, slow);
    await until(async () => (await usageOf(a.url, key)).usage.concurrent === 2, 30_000);
    for (const base of [a.url, b.url]) {
      const third = await execute(base, key, "print('third')");
      expect(third.status).toBe(429);
      expect(third.headers.get("retry-after")).toBe("1");
      expect(((await third.json()) as { error: unknown }).error).toMatchObject({ code: "quota-exceeded", quota: "maxConcurrent", retryable: true });
    }
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    // Still works: once they are done, the next one runs.
    const after = await execute(b.url, key, "print('after')");
    expect(after.status).toBe(200);
  }, 90_000);

  test("a session created through nginx keeps landing on its instance; requests without a session are spread", async () => {
    const { key } = await createKey(a.url, { name: "sessions" });
    const remote = new RemoteIsol8({ host: nginx.url, apiKey: key, sessionId: "affine" });
    await remote.execute({ code: "open('/sandbox/mark.txt', 'w').write('kept')" });
    const landed = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${nginx.url}/execute`, {
        method: "POST",
        headers: headers(key, { "x-isol8-session": "affine" }),
        body: JSON.stringify({ request: { code: "print(open('/sandbox/mark.txt').read())" }, sessionId: "affine" }),
      });
      const body = (await response.json()) as { stdout: string };
      expect(response.status).toBe(200);
      expect(body.stdout).toBe("kept\n");
      landed.add(response.headers.get("x-isol8-instance")!);
    }
    expect(landed.size).toBe(1);
    // Without a session nginx goes round-robin: both instances answer.
    const spread = new Set<string>();
    for (let i = 0; i < 6; i++) spread.add((await fetch(`${nginx.url}/usage`, { headers: headers(key) })).headers.get("x-isol8-instance")!);
    expect(spread.size).toBe(2);
    expect(spread.has([...landed][0]!)).toBe(true);
    // File API and deletion through nginx (path affinity) reach the same session.
    expect((await remote.getFile("/sandbox/mark.txt")).toString()).toBe("kept");
    await remote.stop();
  }, 90_000);

  test("a request for a session that reaches the other instance directly is forwarded to its owner", async () => {
    const { key } = await createKey(a.url, { name: "forwarded" });
    const onA = new RemoteIsol8({ host: a.url, apiKey: key, sessionId: "lives-on-a" });
    await onA.execute({ code: "open('/sandbox/where.txt', 'w').write('on A')" });
    const instanceOfA = (await fetch(`${a.url}/usage`, { headers: headers(key) })).headers.get("x-isol8-instance");
    // Straight to B, without any affinity: B forwards to A.
    const response = await fetch(`${b.url}/execute`, {
      method: "POST",
      headers: headers(key),
      body: JSON.stringify({ request: { code: "print(open('/sandbox/where.txt').read())" }, sessionId: "lives-on-a" }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-isol8-instance")).toBe(instanceOfA);
    expect(((await response.json()) as { stdout: string }).stdout).toBe("on A\n");
    // Streams and the file API too.
    const onB = new RemoteIsol8({ host: b.url, apiKey: key, sessionId: "lives-on-a" });
    expect((await onB.getFile("/sandbox/where.txt")).toString()).toBe("on A");
    const events: string[] = [];
    for await (const event of onB.executeStream({ code: "print(open('/sandbox/where.txt').read())" })) if (event.type === "stdout") events.push(event.data);
    expect(events.join("")).toBe("on A\n");
    // Another key naming the same session id reaches nothing of it (its own namespace, on B).
    const other = await createKey(a.url, { name: "other" });
    const probe = await fetch(`${b.url}/file?sessionId=lives-on-a&path=/sandbox/where.txt`, { headers: headers(other.key) });
    expect(probe.status).toBe(404);
    // An already-forwarded request is not forwarded again: 421 naming the owner.
    const looped = await fetch(`${b.url}/file?sessionId=lives-on-a&path=/sandbox/where.txt`, { headers: headers(key, { "x-isol8-forwarded-by": "i-elsewhere" }) });
    expect(looped.status).toBe(421);
    expect(looped.headers.get("location")).toBe(a.url);
    await onA.stop();
  }, 90_000);

  test("an MCP session opened through nginx answers on either instance: the other one forwards, a silent tool call past the idle timeout included", async () => {
    const { key } = await createKey(a.url, { name: "mcp" });
    const auth = { requestInit: { headers: { authorization: `Bearer ${key}` } } };
    const opened = new StreamableHTTPClientTransport(new URL(`${nginx.url}/mcp`), auth);
    const viaNginx = new Client({ name: "scale-mcp", version: "1.0.0" });
    await viaNginx.connect(opened);
    const sessionId = opened.sessionId!;
    const idOf = async (base: string) => (await fetch(`${base}/usage`, { headers: headers(key) })).headers.get("x-isol8-instance")!;
    const [idA, idB] = await Promise.all([idOf(a.url), idOf(b.url)]);
    // The session's id names the instance that holds it.
    const named = sessionId.slice(0, sessionId.indexOf("."));
    expect([idA, idB]).toContain(named);
    const holder = named === idA ? a : b;
    const other = holder === a ? b : a;
    // nginx spreads the session's requests (no affinity on Mcp-Session-Id): they all reach its sandbox.
    const text = (result: Awaited<ReturnType<Client["callTool"]>>) => (result.content as { text: string }[]).map((part) => part.text).join("");
    await viaNginx.callTool({ name: "run_code", arguments: { code: "open('/sandbox/mcp.txt', 'w').write('kept')" } });
    for (let i = 0; i < 4; i++) expect(text(await viaNginx.callTool({ name: "run_code", arguments: { code: "print(open('/sandbox/mcp.txt').read())" } }))).toContain("kept");
    // Straight to the other instance: forwarded, even a call silent for longer than the
    // instances' idle timeout, which the forwarding instance must not cut.
    const rejoined = new StreamableHTTPClientTransport(new URL(`${other.url}/mcp`), { ...auth, sessionId });
    const viaOther = new Client({ name: "scale-mcp-other", version: "1.0.0" });
    await viaOther.connect(rejoined);
    const silent = await viaOther.callTool({ name: "run_code", arguments: { code: "import time; time.sleep(8); print(open('/sandbox/mcp.txt').read())", timeoutMs: 30_000 } });
    expect(silent.isError).toBe(false);
    expect(text(silent)).toContain("kept");
    // Another key through the other instance: the same 404 as an unknown session.
    const intruder = await fetch(`${other.url}/mcp`, {
      method: "POST",
      headers: headers((await createKey(a.url, { name: "mcp-intruder" })).key, { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18", accept: "application/json, text/event-stream" }),
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(intruder.status).toBe(404);
    // DELETE through the other instance ends it on its holder.
    await rejoined.terminateSession();
    const sessions = (await (await fetch(`${holder.url}/sessions`, { headers: headers(key) })).json()) as { sessions: { id: string }[] };
    expect(sessions.sessions.map((session) => session.id)).toEqual([]);
  }, 90_000);

  test("revoking a key through A stops it on B within 1 s", async () => {
    const { key, id } = await createKey(a.url, { name: "to-revoke" });
    expect((await fetch(`${b.url}/usage`, { headers: headers(key) })).status).toBe(200); // cached on B now
    const revoked = Date.now();
    expect((await fetch(`${a.url}/keys/${id}`, { method: "DELETE", headers: headers(ADMIN) })).status).toBe(200);
    await until(async () => (await fetch(`${b.url}/usage`, { headers: headers(key) })).status === 403, 5_000, 20);
    const elapsed = Date.now() - revoked;
    expect(elapsed).toBeLessThan(1_000);
    expect((await fetch(`${a.url}/usage`, { headers: headers(key) })).status).toBe(403);
    // Still works: another key of the same store.
    const other = await createKey(b.url, { name: "still-fine" });
    expect((await fetch(`${a.url}/usage`, { headers: headers(other.key) })).status).toBe(200);
  }, 30_000);

  test("killing instance B leaves A serving through nginx, and B's running execution stops counting against the quota", async () => {
    const { key } = await createKey(a.url, { name: "survivor", quotas: { maxConcurrent: 1 } });
    // A session held by B: once B is gone, A answers its requests 502 (the owner did not answer).
    await new RemoteIsol8({ host: b.url, apiKey: ADMIN, sessionId: "held-by-b" }).execute({ code: "print(1)" });
    const running = execute(b.url, key, "import time; time.sleep(60)").catch(() => null);
    await until(async () => (await usageOf(a.url, key)).usage.concurrent === 1, 30_000);
    expect((await execute(a.url, key, "print(1)")).status).toBe(429);
    b.child.kill("SIGKILL");
    await running;
    // nginx moves on to A for everything, sessions included.
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${nginx.url}/health`);
      expect(response.status).toBe(200);
    }
    // That 502 of A does not take A out of nginx (docs/scale-out.md: 502 is not a reason to try
    // the next instance): the requests right after it are served.
    const lost = await fetch(`${a.url}/execute`, {
      method: "POST",
      headers: headers(ADMIN, { "x-isol8-session": "held-by-b" }),
      body: JSON.stringify({ request: { code: "print(1)" }, sessionId: "held-by-b" }),
    });
    expect(lost.status).toBe(502);
    const viaNginx = await fetch(`${nginx.url}/execute`, {
      method: "POST",
      headers: headers(ADMIN, { "x-isol8-session": "held-by-b" }),
      body: JSON.stringify({ request: { code: "print(1)" }, sessionId: "held-by-b" }),
    });
    expect(viaNginx.status).toBe(502);
    for (let i = 0; i < 4; i++) expect((await fetch(`${nginx.url}/health`)).status).toBe(200);
    const remote = new RemoteIsol8({ host: nginx.url, apiKey: ADMIN, sessionId: "after-the-loss" });
    expect((await remote.execute({ code: "print('still serving')" })).stdout).toBe("still serving\n");
    await remote.stop();
    // B's lease stops counting once B's heartbeat is 10 s old: the quota is free again.
    const freed = await until(async () => (await usageOf(a.url, key)).usage.concurrent === 0, 20_000, 250);
    expect(freed).toBeLessThan(15_000);
    expect((await execute(nginx.url, key, "print('quota back')")).status).toBe(200);
  }, 90_000);
});
