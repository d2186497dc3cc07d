/**
 * bench/stress: many short executions from several callers on a churning warm pool, while
 * another process sweeps isol8's containers now and then (`isol8 cleanup --force`, as an
 * operator or a second isol8 would). Counts every outcome: isol8 must never fail a run
 * because of a sweep of containers it is using, and a container removed from outside isol8
 * (`--all`) must be reported as such.
 *
 *   bun bench/stress.ts [--runs 2000] [--callers 10] [--sweep-all]
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { findContainers } from "../src/engine/cleanup";
import { createDockerClient } from "../src/engine/docker";
import { DockerIsol8 } from "../src/engine/engine";
import { arg, ms, summary } from "./stats";

const RUNS = Number(arg("runs", "2000"));
const CALLERS = Number(arg("callers", "10"));
const SWEEP_ALL = process.argv.includes("--sweep-all");
const SCOPE = "isol8-bench-stress";
const BINARY = join(import.meta.dir, "..", "dist", "isol8");

// Two container kinds (different limits) and a small pool: containers are created, cleaned,
// discarded and replaced all the time.
const engine = new DockerIsol8({ scope: SCOPE, config: { maxConcurrent: CALLERS, poolSize: { clean: 2, dirty: 2 } } });
await engine.start({ prewarm: ["python"] });

const outcomes = new Map<string, number>();
const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
const latencies: number[] = [];
let next = 0;
let sweeps = 0;
let sweeping = true;

const sweeper = (async () => {
  while (sweeping) {
    await Bun.sleep(500);
    // Another process, its own scope by default: it must leave this run's containers alone.
    const r = spawnSync(BINARY, ["cleanup", "--force", ...(SWEEP_ALL ? ["--all"] : [])], {
      env: { ...process.env, ISOL8_SCOPE: SCOPE, NO_COLOR: "1" },
      encoding: "utf8",
    });
    if (r.status === 0) sweeps++;
  }
})();

const caller = async () => {
  for (let i = next++; i < RUNS; i = next++) {
    const t = performance.now();
    try {
      const result = await engine.execute({ code: `print(${i})`, memoryLimit: i % 2 ? "256m" : "512m", timeoutMs: 20_000 });
      latencies.push(performance.now() - t);
      count(result.stdout === `${i}\n` ? "ok" : `wrong output (exit ${result.exitCode}${result.timedOut ? ", timed out" : ""})`);
    } catch (error) {
      count(`${(error as Error).name}: ${(error as Error).message.replace(/"[0-9a-f]{12}"/g, '"<id>"')}`);
    }
  }
};
const t0 = performance.now();
await Promise.all(Array.from({ length: CALLERS }, caller));
const seconds = (performance.now() - t0) / 1000;
sweeping = false;
await sweeper;
await engine.stop();
const left = (await findContainers(createDockerClient(), { scope: SCOPE })).length;

const s = summary(latencies);
console.log(`bench/stress: ${RUNS} executions, ${CALLERS} callers, ${sweeps} concurrent sweeps (cleanup --force${SWEEP_ALL ? " --all" : ""}), ${seconds.toFixed(1)} s`);
console.log(`latency p50 ${ms(s.p50)}, p95 ${ms(s.p95)}; ${(RUNS / seconds).toFixed(1)} executions/s; ${left} container(s) left`);
for (const [outcome, n] of [...outcomes].sort((a, b) => b[1] - a[1])) console.log(`${String(n).padStart(6)}  ${outcome}`);
