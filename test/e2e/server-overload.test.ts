// Overload: ten times more concurrent requests than the server runs and queues. The excess
// gets 429 with Retry-After (never a 500), every accepted request gets its own right answer,
// and the server's memory stays bounded.
import { afterAll, describe, expect, test } from "bun:test";
import { memoryOf, serverProcesses } from "./server-process";

const KEY = "e2e-overload-key";
const servers = serverProcesses("isol8-overload-");
afterAll(() => servers.cleanup());

/** Peak resident memory of a process so far (VmHWM), in MiB. */
const peakMiB = (pid: number) => memoryOf(pid).peak / 1024 / 1024;

describe("overload", () => {
  test("10 × (maxConcurrent + maxQueue) at once: 429 + Retry-After for the excess, right answers for the rest, no 500", async () => {
    const server = await servers.start({ keys: [KEY], config: { maxConcurrent: 2, server: { maxQueue: 2 } } });
    const { url } = server;
    // One warm-up so the pool and images are ready (the measurement is about the burst).
    await fetch(`${url}/execute`, { method: "POST", headers: { authorization: `Bearer ${KEY}` }, body: JSON.stringify({ request: { code: "1" } }) });
    const before = peakMiB(server.child.pid!);
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        fetch(`${url}/execute`, {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ request: { code: `import time; time.sleep(0.5); print(${i})`, timeoutMs: 30_000 } }),
        }).then(async (r) => ({ i, status: r.status, retryAfter: r.headers.get("retry-after"), body: (await r.json()) as { stdout?: string } })),
      ),
    );
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    const accepted = burst.filter((r) => r.status === 200);
    const refused = burst.filter((r) => r.status === 429);
    expect(accepted.length).toBeGreaterThanOrEqual(4); // what runs plus what waits
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(r.retryAfter).not.toBeNull();
    for (const r of accepted) expect(r.body.stdout).toBe(`${r.i}\n`);
    const grown = peakMiB(server.child.pid!) - before;
    expect(grown).toBeLessThan(100);
    expect(await server.stop()).toBe(0);
  }, 120_000);
});
