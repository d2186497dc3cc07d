/**
 * bench/cold: `isol8 run -e "print(1)"` of the compiled binary as a whole process (cold:
 * a container is created, used and removed), against `dist/isol8 --version` (process
 * start-up alone) as the baseline measured in the same run.
 *
 *   bun bench/cold.ts [--n 20] [--isolation runc,gvisor]   (build first: npm run build)
 *
 * With several isolation runtimes each is timed in the same run (`isol8 run --isolation X`),
 * with its ratio to the first.
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

const isolations = arg("isolation", "runc").split(",");
const runOf = (isolation: string) => ["run", "--isolation", isolation, "-e", "print(1)"];
for (const isolation of isolations) time(runOf(isolation), "1"); // warm-up: images present, page cache warm
const runs = new Map<string, number[]>(isolations.map((isolation) => [isolation, []]));
const versions: number[] = [];
for (let i = 0; i < N; i++) {
  for (const isolation of isolations) runs.get(isolation)!.push(time(runOf(isolation), "1"));
  versions.push(time(["--version"], "."));
}
const b = summary(versions);
const first = summary(runs.get(isolations[0]!)!);
console.log(`bench/cold: ${N} runs of the compiled binary per isolation runtime`);
for (const isolation of isolations) {
  const a = summary(runs.get(isolation)!);
  const versusFirst = isolation === isolations[0] ? "" : `, ${(a.p50 / first.p50).toFixed(2)}x ${isolations[0]}`;
  console.log(`isol8 run --isolation ${isolation} -e "print(1)": p50 ${ms(a.p50)}, p95 ${ms(a.p95)}; container work = ${ms(a.p50 - b.p50)} of the p50${versusFirst}`);
}
console.log(`isol8 --version (start-up baseline): p50 ${ms(b.p50)}, p95 ${ms(b.p95)}`);
