// The Docker daemon restarts while `isol8 serve` has executions in flight. Its own tier:
// it stops every container on this daemon, so it runs alone, after the default suite
// (.ci/run runs it; `bun test ./test/chaos/docker-restart.chaos.ts` by hand).
// Expected: every in-flight request gets a terminal answer (a retryable 503) within its
// timeout + 15 s, none hangs; while Docker is away executions get 503 with Retry-After;
// after Docker is back the server serves again without a restart; no container is left.
import { afterAll, describe, expect, test } from "bun:test";
import { findContainers } from "../../src/engine/cleanup";
import { createDockerClient } from "../../src/engine/docker";
import { serverProcesses } from "../e2e/server-process";
import { restartDockerd, untilDockerAnswers } from "./faults";

const KEY = "chaos-key";
const servers = serverProcesses("isol8-chaos-");
afterAll(() => servers.cleanup());

const execute = (url: string, code: string, timeoutMs: number) =>
  fetch(`${url}/execute`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ request: { code, timeoutMs } }),
  }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get("retry-after"), body: (await r.json()) as Record<string, unknown> }));

describe("dockerd restarts mid-run", () => {
  test("in-flight executions end with a retryable 503, the server recovers by itself, nothing is left", async () => {
    const server = await servers.start({ keys: [KEY], config: { poolSize: 2 } });
    const { url } = server;
    expect((await execute(url, "print('warm')", 20_000)).status).toBe(200);

    const timeoutMs = 20_000;
    const started = performance.now();
    const inFlight = Array.from({ length: 5 }, () => execute(url, "import time; time.sleep(15); print('late')", timeoutMs));
    await Bun.sleep(1_000);
    const downMs = await restartDockerd();
    const answers = await Promise.all(inFlight);
    const answeredWithin = performance.now() - started;

    expect(answeredWithin).toBeLessThan(timeoutMs + 15_000);
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect((answer.body.error as { retryable?: boolean } | undefined)?.retryable).toBe(true);
      expect(answer.retryAfter).not.toBeNull();
    }
    expect(await untilDockerAnswers()).not.toBeNull();
    expect((await fetch(`${url}/health`)).status).toBe(200);

    // Recovery without a restart, within 60 s of the daemon's return.
    const back = performance.now();
    let ok: Awaited<ReturnType<typeof execute>> | undefined;
    while (performance.now() - back < 60_000) {
      ok = await execute(url, "print(6*7)", 20_000);
      if (ok.status === 200) break;
      await Bun.sleep(500);
    }
    expect(ok?.status).toBe(200);
    expect(ok?.body.stdout).toBe("42\n");
    console.log(`dockerd away ${downMs} ms; in-flight answered after ${Math.round(answeredWithin)} ms; serving again ${Math.round(performance.now() - back)} ms after its return`);

    const pid = server.child.pid!;
    expect(await server.stop()).toBe(0);
    expect(await findContainers(createDockerClient(), { pid })).toEqual([]);
  }, 180_000);
});
