// `isol8 serve` of the compiled binary over real HTTP on loopback.
import { afterAll, describe, expect, test } from "bun:test";
import { RemoteIsol8 } from "../../src/client/remote";
import type { StreamEvent } from "../../src/protocol/execution";
import { createDockerClient } from "../../src/engine/docker";
import { findContainers } from "../../src/engine/cleanup";
import { runBinary } from "../helpers";
import { serverProcesses, type StartedServer } from "./server-process";

const KEY = "e2e-key";
const servers = serverProcesses("isol8-serve-");

type Started = StartedServer;

const startServer = (config: object = {}, port = "0", env: Record<string, string> = {}): Promise<Started> =>
  servers.start({ config, port, env, keys: [KEY] });

const post = (url: string, path: string, body: unknown, key = KEY) =>
  fetch(`${url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });

async function ownedBy(pid: number): Promise<string[]> {
  const list = await findContainers(createDockerClient(), { pid });
  return list.map((c) => c.id);
}

afterAll(() => servers.cleanup());

describe("isol8 serve", () => {
  let server: Started;

  test("prints its URL; /health without a key; /execute 401, 403, then the result", async () => {
    server = await startServer();
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe("ok");
    expect((await fetch(`${server.url}/execute`, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await post(server.url, "/execute", { request: { code: "print(1)" } }, "wrong")).status).toBe(403);
    const ok = await post(server.url, "/execute", { request: { code: "print(1)" } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { stdout: string }).stdout).toBe("1\n");
  }, 60_000);

  test("host networking is refused with 403 under the default config", async () => {
    const response = await post(server.url, "/execute", { request: { code: "print(1)" }, options: { network: "host" } });
    expect(response.status).toBe(403);
  });

  test("isol8 run --host streams; --session-id keeps files between runs", async () => {
    const args = ["run", "--host", server.url, "--key", KEY];
    const streamed = runBinary([...args, "-e", "import time\nfor i in range(3): print(i, flush=True); time.sleep(0.1)"]);
    expect(streamed.stdout).toBe("0\n1\n2\n");
    expect(streamed.code).toBe(0);
    expect(runBinary([...args, "--session-id", "s1", "-e", "open('/sandbox/kept.txt','w').write('from run 1')"]).code).toBe(0);
    const second = runBinary([...args, "--session-id", "s1", "-e", "print(open('/sandbox/kept.txt').read())"]);
    expect(second.stdout).toBe("from run 1\n");
    expect(runBinary([...args, "-e", "import sys; sys.exit(3)"]).code).toBe(3);
    const bad = runBinary(["run", "--host", server.url, "--key", "nope", "-e", "1"]);
    expect(bad.stderr).toContain("HTTP 403");
  }, 60_000);

  test("RemoteIsol8: SSE streaming, session file round trip and deletion", async () => {
    const client = new RemoteIsol8({ host: server.url, apiKey: KEY, sessionId: "lib-1" });
    await client.start();
    const events: StreamEvent[] = [];
    for await (const event of client.executeStream({ code: "print('a'); import sys; print('b', file=sys.stderr)" })) events.push(event);
    const text = (type: string) => events.filter((e) => e.type === type).map((e) => e.data).join("");
    expect(text("stdout")).toBe("a\n");
    expect(text("stderr")).toBe("b\n");
    expect(events.at(-1)?.type).toBe("exit");
    await client.putFile("/sandbox/in.bin", new Uint8Array([0, 1, 2, 255]));
    const result = await client.execute({ code: "import sys; sys.stdout.write(open('/sandbox/in.bin','rb').read().hex())" });
    expect(result.stdout).toBe("000102ff");
    expect([...(await client.getFile("/sandbox/in.bin"))]).toEqual([0, 1, 2, 255]);
    const sessions = (await (await fetch(`${server.url}/sessions`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
      sessions: { id: string }[];
    };
    expect(sessions.sessions.map((s) => s.id)).toContain("lib-1");
    await client.stop();
    const gone = await fetch(`${server.url}/session/lib-1`, { method: "DELETE", headers: { authorization: `Bearer ${KEY}` } });
    expect(gone.status).toBe(404);
  }, 60_000);

  test("SIGTERM with 5 executions in flight: all answered, then none of its containers remain", async () => {
    const inFlight = Array.from({ length: 5 }, (_, i) =>
      post(server.url, "/execute", { request: { code: `import time; time.sleep(1.5); print(${i})` } }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { stdout?: string },
      })),
    );
    // SIGTERM once the server holds all five (a request it has not accepted yet is refused).
    for (let polls = 0; polls < 400; polls++) {
      const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
      if (/^isol8_executions_in_flight 5$/m.test(metrics)) break;
      await Bun.sleep(50);
    }
    server.child.kill("SIGTERM");
    const answers = await Promise.all(inFlight);
    answers.forEach((a, i) => {
      expect(a.status).toBe(200);
      expect(a.body.stdout).toBe(`${i}\n`);
    });
    expect(await server.exited).toBe(0);
    expect(await ownedBy(server.child.pid!)).toEqual([]);
  }, 60_000);
});

describe("isol8 serve: ports", () => {
  test("a busy port (not a terminal) → a free port is chosen and printed; ISOL8_PORT is used without --port", async () => {
    const blocker = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("busy") });
    try {
      const moved = await startServer({}, String(blocker.port));
      expect(new URL(moved.url).port).not.toBe(String(blocker.port));
      expect((await fetch(`${moved.url}/health`)).status).toBe(200);
      expect(moved.stderr()).toContain("in use");
      moved.child.kill("SIGTERM");
      expect(await moved.exited).toBe(0);
      const free = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
      const chosen = String(free.port);
      free.stop(true);
      const fromEnv = await startServer({}, "", { ISOL8_PORT: chosen, PORT: "1" });
      expect(new URL(fromEnv.url).port).toBe(chosen);
      fromEnv.child.kill("SIGTERM");
      expect(await fromEnv.exited).toBe(0);
    } finally {
      blocker.stop(true);
    }
  }, 60_000);

  test("without a key the server refuses to start (exit 2)", () => {
    const r = runBinary(["serve", "--port", "0"], { env: { ISOL8_API_KEY: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no API key");
  });
});

describe("isol8 serve: leftovers and pruning", () => {
  test("a restart after SIGKILL reclaims the dead server's containers", async () => {
    const first = await startServer();
    await post(first.url, "/execute", { request: { code: "print(1)" }, sessionId: "left" });
    expect((await ownedBy(first.child.pid!)).length).toBeGreaterThan(0);
    first.child.kill("SIGKILL");
    await first.exited;
    const second = await startServer();
    // Removed by the new server's start-up sweep (in the background): required within 10 s.
    const t0 = performance.now();
    while ((await ownedBy(first.child.pid!)).length && performance.now() - t0 < 10_000) await Bun.sleep(100);
    expect(await ownedBy(first.child.pid!)).toEqual([]);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 60_000);

  test("idle sessions are pruned after maxContainerAgeMs, never one that is executing", async () => {
    const server = await startServer({ cleanup: { autoPrune: true, maxContainerAgeMs: 1000 } });
    await post(server.url, "/execute", { request: { code: "print(1)" }, sessionId: "idle" });
    const busy = post(server.url, "/execute", { request: { code: "import time; time.sleep(3); print('done')" }, sessionId: "busy" });
    await Bun.sleep(2500);
    const list = (await (await fetch(`${server.url}/sessions`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
      sessions: { id: string }[];
    };
    expect(list.sessions.map((s) => s.id)).toEqual(["busy"]);
    const answer = (await (await busy).json()) as { stdout: string };
    expect(answer.stdout).toBe("done\n");
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 60_000);
});
