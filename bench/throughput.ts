/**
 * bench/throughput: 10 concurrent callers run python hello-world for 30 s against one
 * engine; prints executions/s, p50/p99 latency, errors and containers left afterwards. By
 * default it runs twice in the same process, with python's zygote off (the path before it:
 * python3 started per execution) and on, and prints the ratio.
 *
 *   bun bench/throughput.ts [--callers 10] [--seconds 30] [--pool 10] [--zygote off,on]
 */
import { DockerIsol8 } from "../src/engine/engine";
import { createDockerClient } from "../src/engine/docker";
import { findContainers } from "../src/engine/cleanup";
import { arg, ms, summary } from "./stats";

const CALLERS = Number(arg("callers", "10"));
const SECONDS = Number(arg("seconds", "30"));
const POOL = Number(arg("pool", String(CALLERS)));
const SCOPE = "isol8-bench-throughput";

const MODES = arg("zygote", "off,on").split(",");

async function measure(pythonZygote: boolean): Promise<{ rate: number; p50: number; p99: number }> {
  const engine = new DockerIsol8({ scope: SCOPE, config: { maxConcurrent: CALLERS, poolSize: { clean: POOL, dirty: POOL }, security: { pythonZygote } } });
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
  const rate = latencies.length / elapsed;
  console.log(`zygote ${pythonZygote ? "on " : "off"}: ${latencies.length} in ${elapsed.toFixed(1)} s = ${rate.toFixed(1)} executions/s; latency p50 ${ms(s.p50)}, p99 ${ms(s.p99)}; errors: ${errors}, wrong output: ${wrong}, containers left: ${left.length}`);
  return { rate, p50: s.p50, p99: s.p99 };
}

console.log(`bench/throughput: ${CALLERS} callers, ${SECONDS} s each, python print, pool ${POOL}`);
const results = new Map<string, { rate: number; p50: number; p99: number }>();
for (const mode of MODES) results.set(mode, await measure(mode !== "off"));
const on = results.get("on");
const offResult = results.get("off");
if (on && offResult) {
  console.log(`ratio on/off: executions/s ${(on.rate / offResult.rate).toFixed(2)}, p50 ${(on.p50 / offResult.p50).toFixed(2)}, p99 ${(on.p99 / offResult.p99).toFixed(2)}`);
}
