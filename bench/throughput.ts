/**
 * bench/throughput: 10 concurrent callers run python hello-world for 30 s against one
 * engine; prints executions/s, p50/p99 latency, errors and containers left afterwards. By
 * default it measures, in the same process, python's zygote off (the path before it: python3
 * started per execution) and on, and prints the ratio.
 *
 *   bun bench/throughput.ts [--callers 10] [--seconds 30] [--pool 10] [--zygote off,on] [--channel direct] [--rounds 1]
 *
 * --channel direct,attach measures each mode over both of the supervisor's transports
 * (security.directChannel true and false) and prints their ratio. --rounds R splits each
 * measurement into R rounds taken in turn (A B B A A B ...), every engine started and warm
 * before the first: the machine's speed drifts within minutes, and rounds in turn keep a
 * ratio meaningful (the median of the rounds' ratios is printed beside the whole run's).
 */
import { DockerIsol8 } from "../src/engine/engine";
import { createDockerClient } from "../src/engine/docker";
import { findContainers } from "../src/engine/cleanup";
import { arg, ms, percentile, summary } from "./stats";

const CALLERS = Number(arg("callers", "10"));
const SECONDS = Number(arg("seconds", "30"));
const POOL = Number(arg("pool", String(CALLERS)));
const ROUNDS = Math.max(1, Number(arg("rounds", "1")));
const SCOPE = "isol8-bench-throughput";

const MODES = arg("zygote", "off,on").split(",");
const CHANNELS = arg("channel", "direct").split(",");

/** One configuration under measurement: its engine and what its rounds gave. */
interface Measured {
  label: string;
  zygote: string;
  channel: string;
  engine: DockerIsol8;
  latencies: number[];
  /** Executions per second of each round, in order. */
  rates: number[];
  count: number;
  seconds: number;
  errors: number;
  wrong: number;
}

/** Runs CALLERS callers against one engine for `seconds`; adds what they saw to `m`. */
async function round(m: Measured, seconds: number): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let count = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      let i = 0;
      while (performance.now() < deadline) {
        const token = `${caller}-${m.rates.length}-${i++}`;
        const t = performance.now();
        try {
          const result = await m.engine.execute({ runtime: "python", code: `print("${token}")` });
          m.latencies.push(performance.now() - t);
          count++;
          if (result.stdout !== `${token}\n` || result.exitCode !== 0) m.wrong++;
        } catch {
          m.errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  m.rates.push(count / elapsed);
  m.count += count;
  m.seconds += elapsed;
}

const both = CHANNELS.length > 1;
console.log(
  `bench/throughput: ${CALLERS} callers, ${SECONDS} s each in ${ROUNDS} round(s), python print, pool ${POOL}, ${CHANNELS.join(" and ")} channel`,
);
const measured: Measured[] = [];
for (const channel of CHANNELS) {
  for (const zygote of MODES) {
    const security = { pythonZygote: zygote !== "off", directChannel: channel === "direct" };
    const engine = new DockerIsol8({ scope: SCOPE, config: { maxConcurrent: CALLERS, poolSize: { clean: POOL, dirty: POOL }, security } });
    await engine.start({ prewarm: ["python"] });
    const label = `zygote ${zygote === "off" ? "off" : "on "}${both ? `, ${channel} channel` : ""}`;
    measured.push({ label, zygote, channel, engine, latencies: [], rates: [], count: 0, seconds: 0, errors: 0, wrong: 0 });
  }
}
for (let r = 0; r < ROUNDS; r++) {
  // A B, then B A: neither configuration always goes first.
  for (const m of r % 2 === 0 ? measured : [...measured].reverse()) await round(m, SECONDS / ROUNDS);
}
for (const m of measured) await m.engine.stop();
const left = await findContainers(createDockerClient(), { scope: SCOPE });

type Result = { rate: number; p50: number; p99: number; rates: number[] };
const results = new Map<string, Result>();
for (const m of measured) {
  const s = summary(m.latencies);
  const rate = m.count / m.seconds;
  results.set(`${m.channel} ${m.zygote}`, { rate, p50: s.p50, p99: s.p99, rates: m.rates });
  const rounds = ROUNDS > 1 ? ` (rounds: ${m.rates.map((x) => x.toFixed(0)).join(", ")})` : "";
  console.log(
    `${m.label}: ${m.count} in ${m.seconds.toFixed(1)} s = ${rate.toFixed(1)} executions/s${rounds}; latency p50 ${ms(s.p50)}, p99 ${ms(s.p99)}; errors: ${m.errors}, wrong output: ${m.wrong}`,
  );
}
console.log(`containers left: ${left.length}`);
const ratio = (label: string, a: Result | undefined, b: Result | undefined) => {
  if (!a || !b) return;
  const paired = ROUNDS > 1 ? `, median of the rounds' ratios ${percentile(a.rates.map((x, i) => x / b.rates[i]!), 50).toFixed(2)}` : "";
  console.log(`ratio ${label}: executions/s ${(a.rate / b.rate).toFixed(2)}${paired}, p50 ${(a.p50 / b.p50).toFixed(2)}, p99 ${(a.p99 / b.p99).toFixed(2)}`);
};
for (const channel of CHANNELS) ratio(`on/off${both ? ` (${channel})` : ""}`, results.get(`${channel} on`), results.get(`${channel} off`));
for (const mode of MODES) ratio(`direct/attach (zygote ${mode})`, results.get(`direct ${mode}`), results.get(`attach ${mode}`));
