/**
 * bench/leak-soak: alternating writer/reader executions on a warm pool (one clean plus
 * one dirty container). Each writer plants canaries everywhere an execution can leave
 * something (files with tricky names, /tmp, /dev/shm, a chmod 000 directory, detached
 * setsid / stopped / re-forking processes, SysV IPC, an xattr on /sandbox, an env secret,
 * shell and runtime init files); each reader looks for any canary. Reuse is proven per
 * pair by the container id (and the hostname the reader prints).
 *
 *   bun bench/leak-soak.ts [--executions 500]
 */
import { DockerIsol8 } from "../src/engine/engine";
import { createDockerClient } from "../src/engine/docker";
import { findContainers } from "../src/engine/cleanup";
import { arg } from "./stats";

const EXECUTIONS = Number(arg("executions", "500"));
const SCOPE = "isol8-bench-soak";
const PREFIX = "SOAKCANARY";

const writer = (id: string) => `
cd /sandbox
for n in .a ..b ...c -rf "$(printf 'n\\nl')" plain; do echo ${id} > "./$n"; done
mkdir -p deep/x && echo ${id} > deep/x/f && chmod 000 deep
echo ${id} > /tmp/.c; echo ${id} > /dev/shm/.c
echo 'echo ${id}' > .bashrc; echo 'registry=http://${id}.invalid/' > .npmrc
mkdir -p .local/lib/python3.11/site-packages && echo 'print("${id}")' > .local/lib/python3.11/site-packages/usercustomize.py
ipcmk -M 4096 >/dev/null; ipcmk -Q >/dev/null
python3 -c "import os; os.setxattr('/sandbox','user.c',b'${id}')"
(setsid bash -c "exec -a ${id}-setsid sleep 9999" >/dev/null 2>&1 &)
nohup bash -c "while :; do (exec -a ${id}-refork sleep 1 &); sleep 0.05; done" >/dev/null 2>&1 &
bash -c "exec -a ${id}-stopped sleep 9998" >/dev/null 2>&1 &
sleep 0.05; kill -STOP $! 2>/dev/null
echo planted
`;

/** The reader's own program file: the one entry of /sandbox that is its own while it runs. */
const READER_FILE = "soak-reader.py";
// The reader builds the prefix at run time so its own source and argv never contain it.
const READER = `
C="${PREFIX.slice(0, 4)}"; C="${"$"}{C}${PREFIX.slice(4)}"
grep -rsl "$C" /sandbox /tmp /dev/shm 2>/dev/null | sed 's/^/file /'
for p in /proc/[0-9]*; do grep -qa "$C" "$p/cmdline" 2>/dev/null && echo "process $p"; done
[ "$(tail -n +2 /proc/sysvipc/shm | wc -l)$(tail -n +2 /proc/sysvipc/msg | wc -l)" = "00" ] || echo "ipc"
env | grep -q "$C" && echo "env"
python3 -c "import os; print(os.listxattr('/sandbox'))" | grep -q "user" && echo "xattr"
ls -A /sandbox | grep -vx "${READER_FILE}" | sed 's/^/entry /'
echo "host $(hostname)"
`;

const runWriter = (engine: DockerIsol8, id: string) =>
  engine.execute({
    runtime: "python",
    code: `import subprocess; print(subprocess.run(["bash","-c",${JSON.stringify(writer(id))}],capture_output=True,text=True).stdout)`,
    secrets: { SOAK_SECRET: id },
    timeoutMs: 20_000,
  });
const runReader = (engine: DockerIsol8) =>
  engine.execute({
    runtime: "python",
    programFile: READER_FILE,
    code: `import subprocess; print(subprocess.run(["bash","-c",${JSON.stringify(READER)}],capture_output=True,text=True).stdout)`,
  });
const leaksIn = (stdout: string) => stdout.split("\n").filter((line) => line && !line.startsWith("host "));

// Control: the same pair in a persistent container (no wipe between runs) must find the
// file canaries, or the reader's probe is broken and a zero below would mean nothing.
const control = new DockerIsol8({ scope: SCOPE, mode: "persistent" });
await runWriter(control, `${PREFIX}-control`);
const controlLeaks = leaksIn((await runReader(control)).stdout);
await control.stop();
if (controlLeaks.length < 5) throw new Error(`control pair found only ${controlLeaks.length} canaries: the probe is broken`);

const engine = new DockerIsol8({ scope: SCOPE, config: { poolSize: { clean: 1, dirty: 1 } } });
await engine.start({ prewarm: ["python"] });
let pairs = 0;
let reused = 0;
let canaries = 0;
const findings: string[] = [];
for (let i = 0; i < EXECUTIONS / 2; i++) {
  const id = `${PREFIX}-${i}`;
  const w = await runWriter(engine, id);
  if (!w.stdout.includes("planted")) throw new Error(`writer ${i} failed: ${JSON.stringify(w)}`);
  await engine.poolIdle();
  const r = await runReader(engine);
  pairs++;
  if (r.containerId === w.containerId) reused++;
  const leaks = leaksIn(r.stdout);
  if (leaks.length) {
    canaries += leaks.length;
    findings.push(`pair ${i}: ${leaks.join("; ")}`);
  }
  await engine.poolIdle();
}
await engine.stop();
const left = await findContainers(createDockerClient(), { scope: SCOPE });
console.log(`bench/leak-soak: ${pairs * 2} executions (${pairs} writer/reader pairs), pool of 1 clean + 1 dirty`);
console.log(`control (persistent container, no wipe): ${controlLeaks.length} canaries found, as expected`);
console.log(`reuse proven (same container): ${reused}/${pairs} pairs`);
console.log(`canaries found: ${canaries}`);
for (const f of findings.slice(0, 10)) console.log(`  ${f}`);
console.log(`containers left: ${left.length}`);
process.exit(canaries === 0 && left.length === 0 ? 0 : 1);
