/**
 * bench/cold: `isol8 run -e "print(1)"` of the compiled binary as a whole process (cold:
 * a container is created, used and removed), against two baselines measured in the same run:
 * `docker run --rm --network none <the same python image> python3 -c 'print(1)'` (the docker
 * CLI, a container created, run and removed) and `dist/isol8 --version` (process start-up
 * alone).
 *
 *   bun bench/cold.ts [--n 20] [--isolation runc,gvisor] [--before <another isol8 binary>]
 *   (build first: npm run build)
 *
 * `--before` times `isol8 run` of another build (e.g. one of an earlier commit) in the same
 * run, with the ratio of this build to it. Unless `--daemon off`, it then starts a local
 * daemon (`isol8 serve --local` in a scratch directory) and, once the daemon says it is ready
 * and Docker has removed the one-shot runs' containers, times `isol8 run` through it.
 *
 * With several isolation runtimes each is timed in the same run (`isol8 run --isolation X`),
 * with its ratio to the first.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_IMAGE_REPOSITORY, imageNames } from "../src/engine/images/image-names";
import { arg, ms, summary } from "./stats";
import { listeningUrl } from "../test/e2e/server-process";
import { unixFetch } from "../src/cli/local-daemon";

const IMAGE = imageNames(process.env.ISOL8_IMAGE_REPOSITORY || DEFAULT_IMAGE_REPOSITORY).runtime("python");

const N = Number(arg("n", "20"));
const BEFORE = arg("before", "");
const DAEMON = arg("daemon", "on") !== "off";
// One-shot runs never use a daemon of the user's that may be running.
const NO_DAEMON = { ...process.env, ISOL8_DAEMON_DIR: mkdtempSync(join(tmpdir(), "isol8-bench-nodaemon-")) };
const BINARY = join(import.meta.dir, "..", "dist", "isol8");

function time(args: string[], expect: string, command = BINARY, env: NodeJS.ProcessEnv = NO_DAEMON): number {
  const t = performance.now();
  const r = spawnSync(command, args, { encoding: "utf8", env });
  const dt = performance.now() - t;
  if (r.status !== 0 || !r.stdout.includes(expect)) throw new Error(`isol8 ${args.join(" ")} failed: ${r.stderr}`);
  return dt;
}

/** Waits (at most 60 s) until the daemon at `socket` says it is ready and Docker holds no container that is exited or being removed. */
async function settled(socket: string): Promise<void> {
  const until = performance.now() + 60_000;
  const ready = async () => {
    try {
      const answer = await unixFetch(socket)("http://localhost/ready");
      return answer.ok;
    } catch {
      return false;
    }
  };
  const quiet = () => spawnSync("docker", ["ps", "-aq", "--filter", "status=exited", "--filter", "status=removing", "--filter", "status=dead"], { encoding: "utf8" }).stdout.trim() === "";
  while (performance.now() < until && !((await ready()) && quiet())) await Bun.sleep(200);
}

const isolations = arg("isolation", "runc").split(",");
const runOf = (isolation: string) => ["run", "--isolation", isolation, "-e", "print(1)"];
for (const isolation of isolations) time(runOf(isolation), "1"); // warm-up: images present, page cache warm
const runs = new Map<string, number[]>(isolations.map((isolation) => [isolation, []]));
const versions: number[] = [];
const dockerRuns: number[] = [];
// The image's own entrypoint is the supervisor: the baseline names python3 as its entrypoint.
const dockerRun = ["run", "--rm", "--network", "none", "--entrypoint", "python3", IMAGE, "-c", "print(1)"];
time(dockerRun, "1", "docker");
const befores: number[] = [];
if (BEFORE) time(runOf(isolations[0]!), "1", BEFORE);
for (let i = 0; i < N; i++) {
  // A one-shot run leaves Docker removing its container (AutoRemove) while the next one starts:
  // the order of the timed commands turns every round, so none always follows another's removal.
  const steps: (() => void)[] = [
    ...(BEFORE ? [() => void befores.push(time(runOf(isolations[0]!), "1", BEFORE))] : []),
    ...isolations.map((isolation) => () => void runs.get(isolation)!.push(time(runOf(isolation), "1"))),
    () => void dockerRuns.push(time(dockerRun, "1", "docker")),
    () => void versions.push(time(["--version"], ".")),
  ];
  for (let k = 0; k < steps.length; k++) steps[(i + k) % steps.length]!();
}
const b = summary(versions);
const d = summary(dockerRuns);
const first = summary(runs.get(isolations[0]!)!);
console.log(`bench/cold: ${N} runs of the compiled binary per isolation runtime`);
for (const isolation of isolations) {
  const a = summary(runs.get(isolation)!);
  const versusFirst = isolation === isolations[0] ? "" : `, ${(a.p50 / first.p50).toFixed(2)}x ${isolations[0]}`;
  console.log(
    `isol8 run --isolation ${isolation} -e "print(1)": p50 ${ms(a.p50)}, p95 ${ms(a.p95)}; ratio to docker run ${(a.p50 / d.p50).toFixed(2)}; container work = ${ms(a.p50 - b.p50)} of the p50${versusFirst}`,
  );
}
if (BEFORE) {
  const e = summary(befores);
  const now = first.p50;
  console.log(`${BEFORE} run -e "print(1)" (before): p50 ${ms(e.p50)}, p95 ${ms(e.p95)}; ratio to docker run ${(e.p50 / d.p50).toFixed(2)}; this build / before ${(now / e.p50).toFixed(2)}`);
}
console.log(`docker run --rm --network none ${IMAGE} python3 -c 'print(1)' (baseline): p50 ${ms(d.p50)}, p95 ${ms(d.p95)}`);
if (DAEMON) {
  const dir = mkdtempSync(join(tmpdir(), "isol8-bench-daemon-"));
  const env = { ...process.env, ISOL8_DAEMON_DIR: join(dir, "d") };
  const server = spawn(BINARY, ["serve", "--local"], { env, stdio: ["ignore", "pipe", "ignore"] });
  await listeningUrl(server);
  // A warm daemon, as a user's running one is: measured once it is ready (its python pool
  // filled) and Docker has finished removing the one-shot runs' containers above.
  await settled(join(dir, "d", "serve.sock"));
  for (let i = 0; i < 3; i++) time(["run", "-e", "print(1)"], "1", BINARY, env);
  const viaDaemon: number[] = [];
  for (let i = 0; i < N; i++) viaDaemon.push(time(["run", "-e", "print(1)"], "1", BINARY, env));
  server.kill("SIGTERM");
  await new Promise((resolve) => server.on("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
  const v = summary(viaDaemon);
  console.log(`isol8 run -e "print(1)" through the local daemon (isol8 serve --local): p50 ${ms(v.p50)}, p95 ${ms(v.p95)}; ratio to docker run ${(v.p50 / d.p50).toFixed(3)}`);
}
rmSync(NO_DAEMON.ISOL8_DAEMON_DIR, { recursive: true, force: true });
console.log(`isol8 --version (start-up baseline): p50 ${ms(b.p50)}, p95 ${ms(b.p95)}`);
