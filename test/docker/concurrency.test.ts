// The engine's maxConcurrent semaphore queues excess executions instead of failing them;
// parallel executions return correct results with no output crossing between them.
import { afterAll, describe, expect, test } from "bun:test";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";
import { streamRun } from "./execution-helpers";

const engine = testEngine({ config: { maxConcurrent: 4 } });
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

const LINES = 200;

describe("concurrency", () => {
  test("20 parallel executions under maxConcurrent 4 return 20 correct, unmixed results", async () => {
    const tokens = Array.from({ length: 20 }, (_, i) => `token-${i}-${crypto.randomUUID()}`);
    // Many lines each, with a short pause mid-way, so runs overlap while they write.
    const code = (token: string) =>
      [
        "import sys, time",
        "began = time.time()",
        `for i in range(${LINES}):`,
        `    print("${token}", flush=True)`,
        `    if i == ${LINES / 2}: time.sleep(0.3)`,
        `print("${token}", file=sys.stderr)`,
        `print(f"span {began} {time.time()}", file=sys.stderr)`,
      ].join("\n");
    // Half collected, half streamed: both paths run side by side.
    const runs = tokens.map(async (token, i) => {
      const request = { runtime: "python" as const, code: code(token) };
      if (i % 2 === 0) {
        const r = await engine.execute(request);
        return { token, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode, executionId: r.executionId, timedOut: r.timedOut };
      }
      const s = await streamRun(engine, request);
      return { token, stdout: s.stdout, stderr: s.stderr, exitCode: s.exit.exitCode, executionId: s.exit.executionId, timedOut: s.exit.timedOut };
    });
    const results = await Promise.all(runs);

    expect(results).toHaveLength(20);
    const spans: [number, number][] = [];
    for (const r of results) {
      expect(r.exitCode).toBe(0);
      expect(r.timedOut).toBe(false);
      expect(r.stdout).toBe(`${r.token}\n`.repeat(LINES));
      const [line, span] = r.stderr.trimEnd().split("\n");
      expect(line).toBe(r.token);
      const [, began, ended] = span!.split(" ").map(Number);
      spans.push([began!, ended!]);
    }
    expect(new Set(results.map((r) => r.executionId)).size).toBe(20);
    // What the limit is about: programs really ran side by side, but never more than 4 at once.
    const edges = spans.flatMap(([a, b]) => [[a, 1] as const, [b, -1] as const]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let running = 0;
    let most = 0;
    for (const [, step] of edges) most = Math.max(most, (running += step));
    expect(most).toBeGreaterThanOrEqual(2);
    expect(most).toBeLessThanOrEqual(4);
  }, 180_000);

  test("the engine still works after a burst (no slot leaked by the semaphore)", async () => {
    // Failing executions release their slot too: 6 failures then 4 successes in parallel.
    const failing = Array.from({ length: 6 }, (_, i) => engine.execute({ runtime: "bash", code: `exit ${10 + i}` }));
    const working = Array.from({ length: 4 }, (_, i) => engine.execute({ runtime: "bash", code: `echo ok-${i}` }));
    const [bad, good] = await Promise.all([Promise.all(failing), Promise.all(working)]);
    expect(bad.map((r) => r.exitCode)).toEqual([10, 11, 12, 13, 14, 15]);
    expect(good.map((r) => r.stdout)).toEqual(["ok-0\n", "ok-1\n", "ok-2\n", "ok-3\n"]);
    const after = await engine.execute({ runtime: "bash", code: "echo still fine" });
    expect(after.stdout).toBe("still fine\n");
  }, 180_000);
});
