/**
 * bench/warm: warm execute() of a hello world per runtime, against a baseline measured in
 * the same run: the same program started with one `docker exec` per execution in an
 * already-running container of the same image.
 *
 *   bun bench/warm.ts [--n 40] [--runtimes python,bash,node,bun,deno] [--isolation runc,gvisor] [--ahead on,off] [--gap 0] [--channel direct]
 *
 * With several isolation runtimes each is measured in the same run; every row after the
 * first also gives its ratio to the first runtime's warm p50 (e.g. gVisor / runc). Python,
 * node and bun are also measured with their program started per execution (the path before
 * anything was started ahead: security.pythonZygote and security.standbyPrograms false), in
 * the same run, as rows "<isolation>/no-zygote" and "<isolation>/no-standby".
 * --gap pauses that long before each execution (both columns): back to back (0), a pooled
 * container's standby program may still be starting when its execution arrives.
 * --channel direct,attach also measures the supervisor's other transport (security.directChannel)
 * with everything else on, as rows "<isolation>/attach"; the first one named is that of every other row.
 */
import { DockerIsol8 } from "../src/engine/engine";
import Docker from "dockerode";
import { createDockerClient } from "../src/engine/docker";
import { DEFAULT_IMAGE_REPOSITORY, imageNames } from "../src/engine/images/image-names";
import { isol8Labels, LABEL_SCOPE } from "../src/engine/labels";
import type { IsolationRuntime } from "../src/protocol/execution";
import type { RuntimeName } from "../src/runtimes/registry";
import { arg, ms, summary } from "./stats";

const N = Number(arg("n", "40"));
const runtimes = arg("runtimes", "python,bash,node,bun,deno").split(",") as RuntimeName[];
const isolations = arg("isolation", "runc").split(",") as IsolationRuntime[];
const aheadModes = arg("ahead", "on,off").split(",");
const [channel = "direct", ...otherChannels] = arg("channel", "direct").split(",");
/** The runtimes that start something ahead of an execution, and what their rows say when that is off. */
const OFF_LABEL: Partial<Record<RuntimeName, string>> = { python: "no-zygote", node: "no-standby", bun: "no-standby", deno: "no-standby" };
/** Pause before each execution (both columns): the time an idle pooled container has to get ready (python's forked standby, the standby program of node, bun and deno). */
const GAP_MS = Number(arg("gap", "0"));
/** Executions in a row on one engine before the next engine's turn (the first of each is not counted). */
const BLOCK = 11;
const PROGRAMS: Record<RuntimeName, { code: string; argv: string[] }> = {
  python: { code: "print('hello')", argv: ["python3", "-c", "print('hello')"] },
  bash: { code: "echo hello", argv: ["bash", "-c", "echo hello"] },
  node: { code: "console.log('hello')", argv: ["node", "-e", "console.log('hello')"] },
  bun: { code: "console.log('hello')", argv: ["bun", "-e", "console.log('hello')"] },
  deno: { code: "console.log('hello')", argv: ["deno", "eval", "console.log('hello')"] },
};
const SCOPE = "isol8-bench";

const docker = createDockerClient();
/** The baseline needs `docker exec`, which isol8 itself never uses: dockerode directly. */
const dockerode = new Docker();
/** One engine per isolation runtime and mode: "<isolation>", and "<isolation>/off" with nothing started ahead. */
const engines = new Map<string, DockerIsol8>();
/** A started engine of the bench's pool size with `security`, its pool warm for `prewarm`. */
async function startEngine(security: Record<string, unknown>, prewarm: RuntimeName[]): Promise<DockerIsol8> {
  const engine = new DockerIsol8({ scope: SCOPE, config: { poolSize: { clean: 2, dirty: 2 }, security } });
  await engine.start({ prewarm });
  return engine;
}
const startsAhead = runtimes.filter((runtime) => OFF_LABEL[runtime]);
for (const isolation of isolations) {
  for (const mode of aheadModes) {
    const ahead = mode !== "off";
    if (!ahead && startsAhead.length === 0) continue;
    const security = { runtime: isolation, pythonZygote: ahead, standbyPrograms: ahead, directChannel: channel === "direct" };
    engines.set(ahead ? isolation : `${isolation}/off`, await startEngine(security, ahead ? runtimes : startsAhead));
  }
  for (const other of otherChannels) {
    engines.set(`${isolation}/${other}`, await startEngine({ runtime: isolation, directChannel: other === "direct" }, runtimes));
  }
}

/** One `docker exec` round trip of the program in a running container, as the sandbox user. */
async function dockerExec(id: string, argv: string[]): Promise<string> {
  const exec = await dockerode.getContainer(id).exec({ Cmd: argv, User: "10000:10000", AttachStdout: true, AttachStderr: true, WorkingDir: "/sandbox" });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  return Buffer.concat(chunks).toString("latin1");
}

console.log(`bench/warm: ${N} sequential executions per runtime after 3 warm-ups, ${GAP_MS} ms apart (medians; ratio = isol8 / docker exec under runc; vs first = isol8 / the runtime's first row (${isolations[0]}, zygote and standby programs on))`);
console.log(`runtime  isolation       isol8 p50   isol8 p95   exec p50    exec p95    ratio(p50)  vs first(p50)`);
for (const runtime of runtimes) {
  const program = PROGRAMS[runtime]!;
  const id = await docker.createContainer({
    Image: imageNames(process.env.ISOL8_IMAGE_REPOSITORY || DEFAULT_IMAGE_REPOSITORY).runtime(runtime),
    Entrypoint: ["sleep", "infinity"],
    Labels: isol8Labels("sandbox", { [LABEL_SCOPE]: SCOPE }),
    HostConfig: { NetworkMode: "none", ReadonlyRootfs: true, Tmpfs: { "/sandbox": "rw,exec,uid=10000,gid=10000", "/tmp": "rw" } },
  });
  await docker.start(id);
  try {
    // Two blocks, not interleaved: a docker exec leaves dockerd busy for a while, which
    // would otherwise land on the isol8 execution that follows it (and vice versa). The
    // engines take turns within theirs, in runs of BLOCK executions (the order turned around
    // every round): the machine's speed drifts, and neither row gets the faster minutes.
    // Within a run the executions follow each other as --gap says; the first of each run,
    // which follows another engine's run (idle time for this one), is not counted.
    const warm = new Map<string, number[]>();
    const exec: number[] = [];
    const rows = [...engines].filter(([isolation]) => !isolation.endsWith("/off") || OFF_LABEL[runtime]);
    const label = (isolation: string) => isolation.replace(/\/off$/, `/${OFF_LABEL[runtime]}`);
    for (const [isolation] of rows) warm.set(label(isolation), []);
    const once = async (isolation: string, engine: DockerIsol8): Promise<number> => {
      if (GAP_MS > 0) await Bun.sleep(GAP_MS);
      const t = performance.now();
      const result = await engine.execute({ runtime, code: program.code });
      const dt = performance.now() - t;
      if (result.stdout !== "hello\n") throw new Error(`${runtime} (${isolation}): unexpected output ${JSON.stringify(result)}`);
      return dt;
    };
    for (const [isolation, engine] of rows) for (let i = 0; i < 3; i++) await once(isolation, engine);
    for (let round = 0; warm.get(label(rows[0]![0]))!.length < N; round++) {
      for (const [isolation, engine] of round % 2 === 0 ? rows : [...rows].reverse()) {
        const times = warm.get(label(isolation))!;
        for (let i = 0; i < BLOCK && times.length < N; i++) {
          const dt = await once(isolation, engine);
          if (i > 0) times.push(dt);
        }
      }
    }
    for (let i = 0; i < N + 3; i++) {
      if (GAP_MS > 0) await Bun.sleep(GAP_MS);
      const t = performance.now();
      const out = await dockerExec(id, program.argv);
      const dx = performance.now() - t;
      if (!out.includes("hello")) throw new Error(`${runtime}: docker exec printed ${JSON.stringify(out)}`);
      if (i >= 3) exec.push(dx);
    }
    const b = summary(exec);
    const labels = [...warm.keys()];
    const first = summary(warm.get(labels[0]!)!);
    for (const isolation of labels) {
      const a = summary(warm.get(isolation)!);
      const versusFirst = labels.length > 1 ? `  ${(a.p50 / first.p50).toFixed(2)}` : "";
      console.log(
        `${runtime.padEnd(8)} ${isolation.padEnd(15)} ${ms(a.p50).padEnd(11)} ${ms(a.p95).padEnd(11)} ${ms(b.p50).padEnd(11)} ${ms(b.p95).padEnd(11)} ${(a.p50 / b.p50).toFixed(2)}${versusFirst}`,
      );
    }
  } finally {
    await docker.remove(id);
  }
}
for (const engine of engines.values()) await engine.stop();
