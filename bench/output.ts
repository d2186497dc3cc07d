/**
 * bench/output: a warm python execution that writes a large stdout (16 MiB by default),
 * over the supervisor's direct channel and over Docker's attach stream (security.directChannel
 * true and false), taken in turn; prints medians, p10/p90 and the ratio direct / attach.
 *
 *   bun bench/output.ts [--n 25] [--mib 16]
 */
import { DockerIsol8 } from "../src/engine/engine";
import { arg, ms, percentile } from "./stats";

const N = Number(arg("n", "25"));
const MIB = Number(arg("mib", "16"));
const SCOPE = "isol8-bench-output";
const code = `import sys\nb = b"x" * (1 << 20)\nfor i in range(${MIB}): sys.stdout.buffer.write(b)`;

const channels = ["direct", "attach"] as const;
const engines = new Map<string, DockerIsol8>();
for (const channel of channels) {
  const security = { directChannel: channel === "direct" };
  const engine = new DockerIsol8({ scope: SCOPE, config: { poolSize: { clean: 1, dirty: 1 }, security } });
  await engine.start({ prewarm: ["python"] });
  engines.set(channel, engine);
}
const times = new Map<string, number[]>(channels.map((c) => [c, []]));
try {
  for (let i = 0; i < N + 2; i++) {
    for (const channel of i % 2 === 0 ? channels : [...channels].reverse()) {
      const t = performance.now();
      const result = await engines.get(channel)!.execute({ runtime: "python", code, maxOutputSize: `${MIB * 2}m` });
      const dt = performance.now() - t;
      if (result.stdout.length !== MIB << 20 || result.exitCode !== 0) throw new Error(`${channel}: ${result.stdout.length} bytes, exit ${result.exitCode}: ${result.stderr}`);
      if (i >= 2) times.get(channel)!.push(dt);
    }
  }
} finally {
  for (const engine of engines.values()) await engine.stop();
}
console.log(`bench/output: python writes ${MIB} MiB to stdout, ${N} warm executions per channel after 2 warm-ups, taken in turn`);
for (const channel of channels) {
  const t = times.get(channel)!;
  console.log(`${channel.padEnd(7)} p50 ${ms(percentile(t, 50)).padEnd(10)} p10 ${ms(percentile(t, 10)).padEnd(10)} p90 ${ms(percentile(t, 90))}`);
}
console.log(`ratio direct/attach (p50): ${(percentile(times.get("direct")!, 50) / percentile(times.get("attach")!, 50)).toFixed(2)}`);
