/**
 * bench/cold: `isol8 run -e "print(1)"` of the compiled binary as a whole process (cold:
 * a container is created, used and removed), against `dist/isol8 --version` (process
 * start-up alone) as the baseline measured in the same run.
 *
 *   bun bench/cold.ts [--n 20]   (build first: npm run build)
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { arg, ms, summary } from "./stats";

const N = Number(arg("n", "20"));
const BINARY = join(import.meta.dir, "..", "dist", "isol8");

function time(args: string[], expect: string): number {
  const t = performance.now();
  const r = spawnSync(BINARY, args, { encoding: "utf8" });
  const dt = performance.now() - t;
  if (r.status !== 0 || !r.stdout.includes(expect)) throw new Error(`isol8 ${args.join(" ")} failed: ${r.stderr}`);
  return dt;
}

time(["run", "-e", "print(1)"], "1"); // warm-up: images present, page cache warm
const runs: number[] = [];
const versions: number[] = [];
for (let i = 0; i < N; i++) {
  runs.push(time(["run", "-e", "print(1)"], "1"));
  versions.push(time(["--version"], "."));
}
const a = summary(runs);
const b = summary(versions);
console.log(`bench/cold: ${N} runs of the compiled binary`);
console.log(`isol8 run -e "print(1)": p50 ${ms(a.p50)}, p95 ${ms(a.p95)}`);
console.log(`isol8 --version (start-up baseline): p50 ${ms(b.p50)}, p95 ${ms(b.p95)}`);
console.log(`container work = ${ms(a.p50 - b.p50)} of the p50`);
