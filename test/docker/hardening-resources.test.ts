// docs/SECURITY.md B-series: memory, process and tmpfs limits hold (invariant I4), the
// outcome comes back as data in the result, and the engine keeps working afterwards.
import { afterAll, describe, expect, test } from "bun:test";
import type { ExecutionRequest, ExecutionResult } from "../../src/protocol/execution";
import { SandboxError } from "../../src/errors";
import { TEST_ISOLATION, testEngine } from "../helpers";
import { gvisorReuseProblem } from "../../src/engine/container-options";
import { readHostTasks } from "../../src/engine/host-tasks";
import { ownedContainers } from "./owned-containers";

const MiB = 1024 * 1024;

const engine = testEngine();
/**
 * Under gVisor its own kernel runs inside the container's cgroups: a program that reaches the
 * memory or pids limit stops that kernel with its container. The memory limit is still a
 * result (exit 137, oomKilled); the pids limit ends the execution with a SandboxError saying
 * why. Either way the next execution gets a new container.
 */
const gvisor = TEST_ISOLATION === "gvisor";
const run = (request: ExecutionRequest) => engine.execute({ runtime: "python", timeoutMs: 20_000, ...request });

afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

/**
 * Prints the processes of the sandbox user other than this probe itself. After a bomb
 * this must print 0: nothing of an earlier execution may still run where the next one
 * runs (I3; it becomes a real check once containers are pooled).
 */
const LEFTOVER_PROBE = [
  "import os",
  "me = os.getpid()",
  "def uid(pid):",
  "    try:",
  "        return os.stat(f'/proc/{pid}').st_uid",
  "    except FileNotFoundError:",
  "        return None",
  "others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) != me and uid(p) == os.getuid()]",
  "print('leftover', len(others))",
].join("\n");

/** The same probe in bash, with builtins only (a forked helper would count itself). */
const BASH_LEFTOVER_PROBE = [
  "n=0",
  "for p in /proc/[0-9]*; do",
  '  [ "${p#/proc/}" = "$$" ] && continue',
  '  while read -r key value _; do',
  '    if [ "$key" = "Uid:" ]; then [ "$value" = "$UID" ] && n=$((n + 1)); break; fi',
  '  done < "$p/status" 2>/dev/null',
  "done",
  'echo "leftover $n"',
].join("\n");

/**
 * Under gVisor a bomb ends one of three ways, which one depends on the host's kernel and its
 * timing (all seen on one machine): the sandbox stopped with its kernel at the host's pids
 * limit (a SandboxError saying why); the memory limit stopped it first (an oomKilled result:
 * each process of gVisor's kernel holds memory of its own); or the program's RLIMIT_NPROC
 * held it and it ended as under runc (its timeout, or its own exit). Either way it never
 * succeeds, and the next execution finds no process of the bomb.
 */
async function expectBombEndedUnderGvisor(execution: Promise<ExecutionResult>, why: RegExp): Promise<void> {
  const outcome = await execution.then(
    (result) => result,
    (error: Error) => error,
  );
  if (outcome instanceof Error) {
    expect(outcome).toBeInstanceOf(SandboxError);
    expect(outcome.message).toMatch(why);
  } else if (outcome.oomKilled) {
    expect(outcome).toMatchObject({ exitCode: 137, oomKilled: true, timedOut: false });
    expect(outcome.resourceUsage.killReason).toBe("memory-limit");
  } else if (outcome.timedOut) {
    expect(outcome.resourceUsage.killReason).toBe("timeout");
  }
  await engine.poolIdle();
  const next = await run({ code: LEFTOVER_PROBE });
  expect(next).toMatchObject({ exitCode: 0, stdout: "leftover 0\n", timedOut: false });
}

/** The spec the gVisor reuse tests run under: pidsLimit 64. */
const GVISOR_64 = { isolation: "gvisor", pidsLimit: 64 } as const;

/**
 * Under gVisor, after `used` left its container holding `tasks` host tasks: the next
 * execution (`code`, once the pool is idle) runs in the same container when gvisorReuseProblem
 * lets it serve on, in another when it does not. Returns that execution.
 */
async function expectKeptOrLetGo(used: ExecutionResult, tasks: number | null, code: string, after: string): Promise<ExecutionResult> {
  await engine.poolIdle();
  const next = await run({ code, pidsLimit: 64 });
  const letGo = gvisorReuseProblem(GVISOR_64, tasks) !== null;
  console.log(`gVisor: ${tasks} host tasks after ${after}; the container was ${letGo ? "let go" : "kept"}`);
  if (letGo) expect(next.containerId).not.toBe(used.containerId);
  else expect(next.containerId).toBe(used.containerId);
  return next;
}

/**
 * The next execution runs in the SAME container (the pool cleaned and reused it: proven by
 * its id) and finds no process of the bomb left. The probe is written in the bomb's runtime.
 */
async function expectHealthyFollowUp(bomb: ExecutionResult): Promise<void> {
  await engine.poolIdle();
  const probe = bomb.runtime === "bash" ? BASH_LEFTOVER_PROBE : LEFTOVER_PROBE;
  const next = await run({ runtime: bomb.runtime, code: probe, pidsLimit: 64 });
  expect(next).toMatchObject({ exitCode: 0, stdout: "leftover 0\n", timedOut: false, oomKilled: false, containerId: bomb.containerId });
}

describe("B4 memory limit", () => {
  test("a 1 GiB allocation under memoryLimit 256m is OOM-killed: exit 137, oomKilled true", async () => {
    // Under gVisor the limit stops its kernel with the whole sandbox: the same result, and the
    // next execution gets a new container.
    const result = await run({ code: "b = bytearray(2**30)\nprint('allocated', len(b))", memoryLimit: "256m" });
    expect(result).toMatchObject({ exitCode: 137, oomKilled: true, timedOut: false, stdout: "" });
    expect(result.resourceUsage.killReason).toBe("memory-limit");
    if (gvisor) {
      await engine.poolIdle();
      const next = await run({ code: LEFTOVER_PROBE });
      expect(next).toMatchObject({ exitCode: 0, stdout: "leftover 0\n", timedOut: false });
      expect(next.containerId).not.toBe(result.containerId);
    }
  }, 60_000);

  test("still works: a 64 MiB allocation under memoryLimit 256m", async () => {
    const result = await run({ code: "b = bytearray(64 * 2**20)\nprint('allocated', len(b))", memoryLimit: "256m" });
    expect(result).toMatchObject({ exitCode: 0, oomKilled: false, stdout: `allocated ${64 * MiB}\n` });
    expect(result.resourceUsage.killReason).toBeNull();
    expect(result.resourceUsage.peakMemoryBytes).toBeGreaterThanOrEqual(64 * MiB);
  }, 60_000);
});

describe("B1/B2 process limits", () => {
  // The classic bomb's every level backgrounds its children, so the program ends on its own
  // and the engine kills what it left behind; the next test keeps the bomb's shell alive to
  // pin the timeout path.
  test("the classic bash fork bomb hits pids.max, is contained, and its container is clean for the next run", async () => {
    // The classic bomb, started in the background before anything else, so the script's own
    // shell never needs a fork while the limit is saturated (bash retries a refused fork with
    // a growing backoff, which would race the timeout); the script then waits 2 s with a
    // builtin loop, so the bomb has saturated pids.max before the run ends (and every process
    // of it is killed).
    const bomb = "( :(){ :|:& };: ) &\nSECONDS=0; while (( SECONDS < 2 )); do :; done";
    const execution = run({ runtime: "bash", code: bomb, timeoutMs: 10_000, pidsLimit: 64 });
    if (gvisor) return expectBombEndedUnderGvisor(execution, /stopped|killed/);
    const result = await execution;
    expect(result).toMatchObject({ oomKilled: false, timedOut: false });
    expect(result.resourceUsage.killReason).toBe("pids-limit");
    await expectHealthyFollowUp(result);
  }, 120_000);

  test("a fork bomb whose shell stays alive hits pids.max and ends at its timeout", async () => {
    const code = "sleep 60 & keep=$!\n:(){ :|:& };:\nwait $keep";
    const execution = run({ runtime: "bash", code, timeoutMs: 3000, pidsLimit: 64 });
    if (gvisor) return expectBombEndedUnderGvisor(execution, /stopped|killed/);
    const result = await execution;
    expect(result).toMatchObject({ timedOut: true, exitCode: 137, oomKilled: false });
    expect(result.resourceUsage.killReason).toBe("timeout");
    expect(result.stderr).toContain("Resource temporarily unavailable");
    await expectHealthyFollowUp(result);
  }, 60_000);

  test("a python fork loop gets BlockingIOError at pids.max", async () => {
    const execution = run({ code: "import os\n[os.fork() for _ in iter(int, 1)]", timeoutMs: 5000, pidsLimit: 64 });
    if (gvisor) return expectBombEndedUnderGvisor(execution, /stopped|killed/);
    const result = await execution;
    expect(result.exitCode).not.toBe(0);
    expect(result.timedOut).toBe(false);
    expect(result.stderr).toContain("BlockingIOError: [Errno 11] Resource temporarily unavailable");
    expect(result.resourceUsage.killReason).toBe("pids-limit");
    await expectHealthyFollowUp(result);
  }, 60_000);

  // Under gVisor the supervisor sets RLIMIT_NPROC to pidsLimit, which gVisor's kernel counts per
  // uid: a program that keeps its children alive gets EAGAIN at the limit, as at pids.max under
  // runc, and the sandbox lives on. (Bombs whose processes die and fork again still use up
  // gVisor's room under the host's pids limit: the tests above.)
  test("children kept alive up to the limit: the next fork gets EAGAIN (pids.max under runc, RLIMIT_NPROC under gVisor) and the container stays", async () => {
    const code = [
      "import os, signal, time",
      "children = []",
      "try:",
      "    while True:",
      "        pid = os.fork()",
      "        if pid == 0:",
      "            time.sleep(60)",
      "            os._exit(0)",
      "        children.append(pid)",
      "except OSError as err:",
      "    print(len(children), err.errno)",
      "for pid in children:",
      "    os.kill(pid, signal.SIGKILL)",
    ].join("\n");
    const result = await run({ code, pidsLimit: 64, timeoutMs: 20_000 });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, oomKilled: false, stderr: "" });
    const [forked, errno] = result.stdout.trim().split(" ").map(Number);
    expect(errno).toBe(11);
    expect(forked).toBeGreaterThanOrEqual(56);
    expect(forked).toBeLessThanOrEqual(64);
    if (!gvisor) return expectHealthyFollowUp(result);
    // gVisor keeps host stubs of the ended children: past half of the container's host room
    // (gvisorReuseProblem) the pool lets it go after its clean, below it the container serves on.
    const tasks = readHostTasks(result.containerId);
    expect(tasks).not.toBeNull();
    const next = await expectKeptOrLetGo(result, tasks, LEFTOVER_PROBE, `${forked} children`);
    expect(next).toMatchObject({ exitCode: 0, stdout: "leftover 0\n" });
  }, 60_000);

  test("gVisor: a container its programs' processes left holding more than half its host room is let go; one below serves on", async () => {
    if (!gvisor) return;
    // 60 children alive together, twice in one container: gVisor's host stubs pile up.
    const churn = [
      "import os, time",
      "for _ in range(2):",
      "    pids = []",
      "    for _ in range(60):",
      "        pid = os.fork()",
      "        if pid == 0:",
      "            time.sleep(0.5)",
      "            os._exit(0)",
      "        pids.append(pid)",
      "    [os.waitpid(p, 0) for p in pids]",
      "print('ok')",
    ].join("\n");
    const light = await run({ code: "print('light')", pidsLimit: 64 });
    await engine.poolIdle();
    expect(gvisorReuseProblem(GVISOR_64, readHostTasks(light.containerId))).toBeNull();
    const heavy = await run({ code: churn, pidsLimit: 64 });
    expect(heavy).toMatchObject({ exitCode: 0, stdout: "ok\n" });
    expect(heavy.containerId).toBe(light.containerId); // still works: a light program's container served again
    const next = await expectKeptOrLetGo(heavy, readHostTasks(heavy.containerId), "print('next')", "2 x 60 children");
    expect(next.stdout).toBe("next\n");
  }, 120_000);

  test("the leftover probe is real: it counts live sandbox processes besides itself", async () => {
    const code = `import subprocess\nsleeper = subprocess.Popen(['sleep', '60'])\n${LEFTOVER_PROBE}\nsleeper.kill()`;
    const result = await run({ code });
    expect(result).toMatchObject({ exitCode: 0, stdout: "leftover 1\n" });
  }, 30_000);

  test("the bash leftover probe is real too", async () => {
    const result = await run({ runtime: "bash", code: `sleep 60 &\n${BASH_LEFTOVER_PROBE}\nkill %1` });
    expect(result).toMatchObject({ exitCode: 0, stdout: "leftover 1\n" });
  }, 30_000);

  test("still works: forking 16 children under pidsLimit 64", async () => {
    const code = [
      "import os",
      "pids = [os.fork() or os._exit(7) for _ in range(16)]",
      "codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]",
      "print(len(codes), set(codes))",
    ].join("\n");
    const result = await run({ code, pidsLimit: 64 });
    expect(result).toMatchObject({ exitCode: 0, stdout: "16 {7}\n", stderr: "" });
    expect(result.resourceUsage.killReason).toBeNull();
  }, 60_000);
});

describe("B5 tmpfs sizes are applied", () => {
  const fill = (dir: string, megabytes: number) =>
    `dd if=/dev/zero of=${dir}/fill bs=1M count=${megabytes} status=none && wc -c < ${dir}/fill`;

  test('with sandboxSize "8m", writing 20 MB to /sandbox fails with "No space left on device"', async () => {
    const result = await run({ runtime: "bash", code: fill("/sandbox", 20), sandboxSize: "8m" });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("No space left on device");
  }, 30_000);

  test('with tmpSize "8m", writing 20 MB to /tmp fails with "No space left on device"', async () => {
    const result = await run({ runtime: "bash", code: fill("/tmp", 20), tmpSize: "8m" });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("No space left on device");
  }, 30_000);

  test("still works: 4 MB fits in each 8m mount, whose size is exactly 8 MiB", async () => {
    // Python, not coreutils' stat: its statx(AT_NO_AUTOMOUNT) gets EINVAL from Debian's gVisor.
    const code = [
      "import os",
      "for d in ['/sandbox', '/tmp']:",
      "    open(f'{d}/fill', 'wb').write(bytes(4 * 2**20))",
      "    print(os.path.getsize(f'{d}/fill'))",
      "for d in ['/sandbox', '/tmp']:",
      "    s = os.statvfs(d)",
      "    print(s.f_blocks, s.f_frsize)",
    ].join("\n");
    const result = await run({ code, sandboxSize: "8m", tmpSize: "8m" });
    expect(result.exitCode).toBe(0);
    const [sandboxFile, tmpFile, ...mounts] = result.stdout.trim().split("\n");
    expect([sandboxFile, tmpFile]).toEqual([String(4 * MiB), String(4 * MiB)]);
    const sizes = mounts.map((line) => line.split(" ").map(Number).reduce((blocks, blockSize) => blocks * blockSize));
    expect(sizes).toEqual([8 * MiB, 8 * MiB]);
  }, 30_000);
});
