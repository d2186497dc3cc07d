/**
 * bench/throughput: 10 concurrent callers run python hello-world for 30 s against one
 * engine; prints executions/s, p50/p99 latency, errors and containers left afterwards.
 *
 *   bun bench/throughput.ts [--callers 10] [--seconds 30] [--pool 10]
 */
import { DockerIsol8 } from "../src/engine/engine";
import { createDockerClient } from "../src/engine/docker";
import { findContainers } from "../src/engine/cleanup";
import { arg, ms, summary } from "./stats";

const CALLERS = Number(arg("callers", "10"));
const SECONDS = Number(arg("seconds", "30"));
const POOL = Number(arg("pool", String(CALLERS)));
const SCOPE = "isol8-bench-throughput";

const engine = new DockerIsol8({ scope: SCOPE, config: { maxConcurrent: CALLERS, poolSize: { clean: POOL, dirty: POOL } } });
await engine.start({ prewarm: ["python"] });

const latencies: number[] = [];
let errors = 0;
let wrong = 0;
const deadline = performance.now() + SECONDS * 1000;
const started = performance.now();
await Promise.all(
  Array.from({ length: CALLERS }, async (_, caller) => {
    let i = 0;
    while (performance.now() < deadline) {
      const token = `${caller}-${i++}`;
      const t = performance.now();
      try {
        const result = await engine.execute({ runtime: "python", code: `print("${token}")` });
        latencies.push(performance.now() - t);
        if (result.stdout !== `${token}\n` || result.exitCode !== 0) wrong++;
      } catch {
        errors++;
      }
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
await engine.stop();
const left = await findContainers(createDockerClient(), { scope: SCOPE });
const s = summary(latencies);
console.log(`bench/throughput: ${CALLERS} callers, ${SECONDS} s, python print, pool ${POOL}`);
console.log(`executions: ${latencies.length} in ${elapsed.toFixed(1)} s = ${(latencies.length / elapsed).toFixed(1)} executions/s`);
console.log(`latency: p50 ${ms(s.p50)}, p99 ${ms(s.p99)}`);
console.log(`errors: ${errors}, wrong output: ${wrong}, containers left: ${left.length}`);
