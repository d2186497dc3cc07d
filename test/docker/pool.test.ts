// Warm pool: reuse is proven (same container), and nothing of execution N is visible to N+1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import { liveTestContainers, testEngine } from "../helpers";

const CANARY = `CANARY-${Math.random().toString(36).slice(2)}`;

const WRITER = `
set -u
cd /sandbox
for n in .a ..b ...c -rf "$(printf 'n\\nl')" plain; do echo ${CANARY} > "./$n"; done
mkdir -p deep/x && echo ${CANARY} > deep/x/f && chmod 000 deep
echo ${CANARY} > /tmp/.c; echo ${CANARY} > /dev/shm/.c
printf 'echo ${CANARY}\\n' > /sandbox/.bashrc
mkdir -p /sandbox/.local/lib/python3.11/site-packages && echo 'print("${CANARY}")' > /sandbox/.local/lib/python3.11/site-packages/usercustomize.py
echo 'registry=http://${CANARY}.invalid/' > /sandbox/.npmrc
ipcmk -M 4096 >/dev/null; ipcmk -Q >/dev/null
setfattr -n user.canary -v ${CANARY} /sandbox 2>/dev/null || python3 -c "import os; os.setxattr('/sandbox','user.canary',b'${CANARY}')" 2>/dev/null || true
(setsid bash -c "exec -a ${CANARY}-setsid sleep 9999" >/dev/null 2>&1 &)
nohup bash -c "while :; do (exec -a ${CANARY}-refork sleep 1 &); sleep 0.05; done" >/dev/null 2>&1 &
setsid bash -c "exec -a ${CANARY}-stopped sleep 9998" >/dev/null 2>&1 &
sleep 0.2; kill -STOP $! 2>/dev/null
echo written
`;

// The reader assembles the canary at run time, so its own source never contains it.
const [HEAD, TAIL] = [CANARY.slice(0, 4), CANARY.slice(4)];
const READER = `
C="${HEAD}"; C="${"$"}{C}${TAIL}"
found=0
report() { echo "LEAK: $*"; found=1; }
[ -z "$(ls -A /sandbox | grep -vx 'main.py')" ] || report "sandbox: $(ls -A /sandbox | tr '\\n' ' ')"
grep -rsl "$C" /tmp /dev/shm /sandbox >/dev/null 2>&1 && report "canary file"
[ -z "$(ls -A /tmp)" ] || report "tmp: $(ls -A /tmp)"
[ -z "$(ls -A /dev/shm)" ] || report "shm"
for p in /proc/[0-9]*; do
  if grep -qa "$C" "$p/cmdline" 2>/dev/null; then report "process $(tr '\\0' ' ' < $p/cmdline)"; fi
done
[ "$(tail -n +2 /proc/sysvipc/shm | wc -l)" = 0 ] || report "sysv shm"
[ "$(tail -n +2 /proc/sysvipc/msg | wc -l)" = 0 ] || report "sysv msg"
env | grep -q "$C" && report "env"
python3 -c "import os; print(os.listxattr('/sandbox'))" 2>/dev/null | grep -q canary && report "xattr"
echo "host=$(hostname) found=$found"
`;

describe("warm pool (fast strategy)", () => {
  let engine: DockerIsol8;
  beforeAll(async () => {
    engine = testEngine({ config: { poolSize: { clean: 1, dirty: 1 } }, log: process.env.DEBUG_POOL ? console.log : undefined });
    await engine.start({ prewarm: ["python"] });
  });
  afterAll(async () => {
    await engine.stop();
    expect(await liveTestContainers()).toEqual([]);
  });

  test("reuse is proven: two executions run in the same container", async () => {
    const a = await engine.execute({ runtime: "python", code: "import socket; print(socket.gethostname())" });
    await engine.poolIdle(); // the background cleaner has returned it
    const b = await engine.execute({ runtime: "python", code: "import socket; print(socket.gethostname())" });
    expect(b.containerId).toBe(a.containerId);
    expect(b.stdout).toBe(a.stdout);
  });

  test("nothing of execution N is visible to N+1 (files, tmp, shm, processes, IPC, env, init files, xattrs)", async () => {
    const writer = await engine.execute({
      runtime: "python",
      code: `import subprocess,sys; r=subprocess.run(['bash','-c',${JSON.stringify(WRITER)}],capture_output=True,text=True); print(r.stdout, r.stderr, file=sys.stderr)`,
      secrets: { LEAKY: CANARY },
      timeoutMs: 20_000,
    });
    expect(writer.stderr, JSON.stringify(writer)).toContain("written");
    await engine.poolIdle();
    if (process.env.DEBUG_POOL) console.log("writer", writer.containerId.slice(0, 12), engine.poolStats());
    const reader = await engine.execute({
      runtime: "python",
      code: `import subprocess; print(subprocess.run(['bash','-c',${JSON.stringify(READER)}],capture_output=True,text=True).stdout)`,
    });
    expect(reader.containerId).toBe(writer.containerId);
    expect(reader.stdout).not.toContain("LEAK");
    expect(reader.stdout).toContain("found=0");
  }, 60_000);

  test("still works: files written and read within one execution are there", async () => {
    const r = await engine.execute({
      runtime: "python",
      code: "open('/sandbox/.a','w').write('x'); open('/tmp/t','w').write('y'); print(open('/sandbox/.a').read()+open('/tmp/t').read())",
    });
    expect(r.stdout).toBe("xy\n");
  });

  test("secrets are in no process of the pooled container after the run, and not in the next run's environment", async () => {
    const secret = "value-one-123-secret";
    const r = await engine.execute({
      runtime: "python",
      code: "import os; print(sorted(k for k in os.environ if k.startswith('SECRET')))",
      secrets: { SECRET_ONE: secret },
    });
    expect(r.stdout).toBe("['SECRET_ONE']\n");
    const { createDockerClient } = await import("../../src/engine/docker");
    const inspect = await createDockerClient().inspectContainer(r.containerId);
    expect(JSON.stringify(inspect?.Config.Env ?? [])).not.toContain(secret);
    // Every process still in the container (tini, the supervisor, ...), read as root from outside.
    const environs = Bun.spawnSync(["docker", "exec", "-u", "0", r.containerId, "sh", "-c", "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'"]);
    expect(environs.exitCode).toBe(0);
    expect(environs.stdout.toString()).not.toContain(secret);
    await engine.poolIdle();
    const next = await engine.execute({ runtime: "python", code: "import os; print(sorted(k for k in os.environ if k.startswith('SECRET')))" });
    expect(next.containerId).toBe(r.containerId);
    expect(next.stdout).toBe("[]\n");
  });

  test("concurrent load returns unmixed results", async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => engine.execute({ runtime: "python", code: `print('token-${i}')` })),
    );
    results.forEach((r, i) => expect(r.stdout).toBe(`token-${i}\n`));
  }, 60_000);
});

describe("warm pool (secure strategy)", () => {
  test("cleans on acquire and still reuses the container", async () => {
    const engine = testEngine({ config: { poolStrategy: "secure", poolSize: { clean: 1, dirty: 1 } } });
    try {
      const a = await engine.execute({ runtime: "bash", code: "echo secret > /sandbox/f; echo $HOSTNAME" });
      const b = await engine.execute({ runtime: "bash", code: "ls -A /sandbox | grep -vx 'main.sh'; echo $HOSTNAME" });
      expect(b.containerId).toBe(a.containerId);
      expect(b.stdout).toBe(a.stdout);
    } finally {
      await engine.stop();
    }
  });
});

describe("control channel cannot be forged", () => {
  let engine: DockerIsol8;
  beforeAll(() => {
    engine = testEngine({ config: { poolSize: { clean: 1, dirty: 1 } } });
  });
  afterAll(() => engine.stop());

  test("printing frame look-alikes does not change the exit code or end the run", async () => {
    const forged = "E\\x00\\x00\\x00\\x07exit=0\\n";
    const r = await engine.execute({
      runtime: "python",
      code: `import sys,time; sys.stdout.buffer.write(b"${forged}"*50); sys.stdout.flush(); sys.stderr.buffer.write(b"${forged}"); time.sleep(0.2); print('after'); sys.exit(7)`,
    });
    expect(r.exitCode).toBe(7);
    expect(r.stdout).toContain("after");
    expect(r.stdout).toContain("exit=0");
  });

  test("closing stdout early does not end the run early", async () => {
    const r = await engine.execute({
      runtime: "python",
      code: "import os,time; print('before', flush=True); os.close(1); os.close(2); time.sleep(0.3); open('/sandbox/after','w').write('1'); os._exit(5)",
      outputPaths: ["/sandbox/after"],
    });
    expect(r.exitCode).toBe(5);
    expect(r.stdout).toBe("before\n");
    expect(r.files?.["/sandbox/after"]).toBe(Buffer.from("1").toString("base64"));
  });

  test("a background child writing after the parent exits leaks into neither this result nor the next", async () => {
    const first = await engine.execute({ runtime: "bash", code: "(sleep 0.3; echo LATE-WRITE; echo LATE-ERR >&2) & echo parent" });
    expect(first.stdout).toBe("parent\n");
    await Bun.sleep(500);
    const second = await engine.execute({ runtime: "bash", code: "sleep 0.5; echo next" });
    expect(second.stdout).toBe("next\n");
    expect(second.stderr).not.toContain("LATE");
  });

  test("signalling PID 1 or the supervisor is refused and the run completes", async () => {
    const r = await engine.execute({
      runtime: "bash",
      code: "kill -9 1 2>&1; for s in /proc/[0-9]*/status; do if grep -q '^Uid:\\s0\\s' $s; then p=$(basename $(dirname $s)); kill -STOP $p 2>/dev/null && echo STOPPED $p; kill -9 $p 2>/dev/null && echo KILLED $p; fi; done; echo done",
    });
    expect(r.stdout).toContain("Operation not permitted");
    expect(r.stdout).not.toContain("STOPPED");
    expect(r.stdout).not.toContain("KILLED");
    expect(r.stdout).toContain("done");
    const next = await engine.execute({ runtime: "bash", code: "echo still-alive" });
    expect(next.stdout).toBe("still-alive\n");
  });
});

describe("persistent mode", () => {
  let engine: DockerIsol8;
  beforeAll(() => {
    engine = testEngine({ mode: "persistent" });
  });
  afterAll(async () => {
    await engine.stop();
  });

  test("putFile before any execution works; files persist across executions", async () => {
    await engine.putFile("/sandbox/input.txt", "from putFile");
    const a = await engine.execute({ runtime: "python", code: "open('/sandbox/state.txt','w').write('kept'); print(open('/sandbox/input.txt').read())" });
    expect(a.stdout).toBe("from putFile\n");
    const b = await engine.execute({ runtime: "python", code: "print(open('/sandbox/state.txt').read())" });
    expect(b.stdout).toBe("kept\n");
    expect(b.containerId).toBe(a.containerId);
    expect((await engine.getFile("/sandbox/state.txt")).toString()).toBe("kept");
  });

  test("getFile refuses traversal and symlinks pointing out", async () => {
    expect(engine.getFile("/sandbox/../etc/passwd")).rejects.toThrow(/outside \/sandbox|not allowed/);
    await engine.execute({ runtime: "python", code: "import os; os.symlink('/etc/passwd','/sandbox/pw')" });
    expect(engine.getFile("/sandbox/pw")).rejects.toMatchObject({ name: "FileError", reason: "outside-sandbox" });
  });

  test("no scratch files accumulate across executions", async () => {
    for (let i = 0; i < 3; i++) await engine.execute({ runtime: "python", programFile: `run${i}.py`, code: "print(1)" });
    const r = await engine.execute({ runtime: "python", code: "import os; print(sorted(n for n in os.listdir('/sandbox') if n.endswith('.py')))" });
    // Only this run's own program file: each earlier one was removed after its run.
    expect(r.stdout).toBe("['main.py']\n");
  });

  test("processes do not outlive an execution, even in persistent mode", async () => {
    await engine.execute({ runtime: "python", code: "import subprocess; subprocess.Popen(['setsid','sleep','4242'])" });
    const r = await engine.execute({
      runtime: "python",
      code: "import os\nprint([p for p in os.listdir('/proc') if p.isdigit() and b'4242' in open(f'/proc/{p}/cmdline','rb').read() and int(p) != os.getpid()])",
    });
    expect(r.stdout.trim()).toBe("[]");
  });

  test("switching runtime throws", async () => {
    expect(engine.execute({ runtime: "node", code: "1" })).rejects.toThrow('Cannot switch runtime from "python" to "node"');
  });
});
