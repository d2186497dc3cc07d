// Real-Docker proof of the python zygote (docs/SECURITY.md I15, C16): every python program of a
// pooled or session container is forked from an interpreter the supervisor started once, as
// root. User code must not reach it (signals, /proc/<pid>/mem, process_vm_writev, ptrace,
// pidfd signals), which is also the runner of every program it forks; no standby of the next
// execution exists while user code runs; each program gets exactly the posture of a python3
// started by the supervisor, and nothing of execution N (monkeypatched modules, sys.modules, sys.path,
// environment, open files, threads, processes, random state) is in N+1. Every refused attack
// has a "still works" twin on a process the program owns; with the strict seccomp profile
// ptrace and process_vm_* are refused by seccomp already, so the attacks run again with
// seccomp unconfined, where only the zygote's identity stands in the way.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { ExecutionRequest } from "../../src/protocol/execution";
import { TEST_ISOLATION, testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";

const gvisor = TEST_ISOLATION === "gvisor";
const engines: DockerIsol8[] = [];
function engine(options: Parameters<typeof testEngine>[0] = {}): DockerIsol8 {
  const made = testEngine(options);
  engines.push(made);
  return made;
}
// The zygote is set explicitly: these tests hold whatever $ISOL8_TEST_PYTHON_ZYGOTE says.
const session = engine({ mode: "persistent", config: { security: { pythonZygote: true } } });
const unconfined = engine({ mode: "persistent", config: { security: { seccomp: "unconfined", pythonZygote: true } } });
const off = engine({ mode: "persistent", config: { security: { pythonZygote: false } } });
const pooled = engine({ config: { poolSize: { clean: 1, dirty: 1 }, security: { pythonZygote: true } } });

afterAll(async () => {
  for (const e of engines) await e.stop();
  for (const e of engines) expect(await ownedContainers(e)).toEqual([]);
});

const run = (on: DockerIsol8, code: string, extra: Partial<ExecutionRequest> = {}) =>
  on.execute({ runtime: "python", timeoutMs: 20_000, code, ...extra });

/** Python that finds the zygote (the process whose command line holds the zygote's first line) and prints JSON. */
const FIND_ZYGOTE = String.raw`
import json, os
def forked_from_zygote(pid):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            return b"# isol8 python zygote" in f.read()
    except OSError:
        return False
def zygote_pids():
    # Its programs are forks of it (the same command line): the zygote is the one whose parent
    # (the supervisor) is not.
    return [int(n) for n in os.listdir("/proc") if n.isdigit() and forked_from_zygote(n) and not forked_from_zygote(status(int(n))["PPid"])]
def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out
`;

/** Every way into another process, tried against `pid`; each entry: the errno name, or "ok". */
const ATTACKS = String.raw`
import ctypes, errno, signal
libc = ctypes.CDLL(None, use_errno=True)
def outcome(fn):
    try:
        r = fn()
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    if r is not None and r < 0:
        return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
    return "ok"
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
def vm(pid, write):
    buf = ctypes.create_string_buffer(8)
    local = iovec(ctypes.cast(buf, ctypes.c_void_p), 8)
    # The remote address: the start of the target's first writable mapping (readable by the
    # attacker only for its own processes), else an address every python maps.
    addr = 0x400000
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                if " rw" in line:
                    addr = int(line.split("-")[0], 16)
                    break
    except OSError:
        pass
    remote = iovec(ctypes.c_void_p(addr), 8)
    if write:
        fn = libc.process_vm_readv  # read first, then write the same bytes back: no harm to a twin
        if fn(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) < 0:
            return -1
        return libc.process_vm_writev(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    return libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
def ptrace_attach(pid):
    r = libc.ptrace(16, pid, None, None)  # PTRACE_ATTACH
    if r == 0:
        os.waitpid(pid, 0)
        libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
    return r
def pidfd_signal(pid, sig):
    fd = libc.syscall(434, pid, 0)  # pidfd_open
    if fd < 0:
        return -1
    r = libc.syscall(424, fd, sig, None, 0)  # pidfd_send_signal
    os.close(fd)
    return r
def attacks(pid):
    def open_mem(mode):
        with open("/proc/%d/mem" % pid, mode) as f:
            return None
    def read_file(name):
        with open("/proc/%d/%s" % (pid, name), "rb") as f:
            f.read()
    return {
        "kill0": outcome(lambda: os.kill(pid, 0)),
        "SIGSTOP": outcome(lambda: os.kill(pid, signal.SIGSTOP)),
        "SIGCONT": outcome(lambda: os.kill(pid, signal.SIGCONT)),
        "SIGUSR1": outcome(lambda: os.kill(pid, signal.SIGWINCH)),
        "killpg": outcome(lambda: os.killpg(os.getpgid(pid), signal.SIGWINCH)),
        "pidfd_send_signal": outcome(lambda: pidfd_signal(pid, 0)),
        "mem_read": outcome(lambda: open_mem("rb")),
        "mem_write": outcome(lambda: open_mem("r+b")),
        "environ": outcome(lambda: read_file("environ")),
        "maps": outcome(lambda: read_file("maps")),
        "process_vm_readv": outcome(lambda: vm(pid, False)),
        "process_vm_writev": outcome(lambda: vm(pid, True)),
        "ptrace_attach": outcome(lambda: ptrace_attach(pid)),
    }
`;

/** The program: attacks on the zygote (its parent and runner) and, as the twin, on a child it owns. */
const ATTACK_PROGRAM = `${FIND_ZYGOTE}${ATTACKS}
import subprocess, sys, time
zygote = zygote_pids()
# Any other fork of the zygote (a standby of the next execution would be one): none while this
# program runs, the zygote forks the next standby only once nothing of this execution is left.
standby = [int(n) for n in os.listdir("/proc") if n.isdigit() and forked_from_zygote(n) and int(n) not in zygote + [os.getpid()]]
twin = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
time.sleep(0.3)
print(json.dumps({
    "zygotes": zygote,
    "zygote_uid": status(zygote[0])["Uid"] if zygote else None,
    "parent_is_zygote": os.getppid() in zygote,
    "zygote": attacks(zygote[0]) if zygote else None,
    "standby": standby,
    "twin": attacks(twin.pid),
}))
twin.kill()
`;

const ALL_REFUSED = (ptraceErrno: string) => ({
  kill0: "EPERM",
  SIGSTOP: "EPERM",
  SIGCONT: "EPERM",
  SIGUSR1: "EPERM",
  killpg: "EPERM",
  pidfd_send_signal: "EPERM",
  mem_read: "EACCES",
  mem_write: "EACCES",
  environ: "EACCES",
  maps: "EACCES",
  process_vm_readv: "EPERM",
  process_vm_writev: "EPERM",
  ptrace_attach: ptraceErrno,
});

describe.skipIf(gvisor)("python zygote: out of user code's reach", () => {
  test("with the strict profile: signals, pidfd signals, /proc/<pid>/mem, environ, maps, process_vm_readv/writev and ptrace fail on the zygote (the program's parent and runner), and no standby of the next execution exists while the program runs; signals and /proc/<pid>/mem work on the program's own child", async () => {
    const result = await run(session, ATTACK_PROGRAM);
    expect(result.stderr).toBe("");
    const seen = JSON.parse(result.stdout);
    expect(seen.zygotes.length).toBe(1);
    expect(seen.zygote_uid.split(/\s+/)).toEqual(["0", "0", "0", "0"]);
    expect(seen.parent_is_zygote).toBe(true);
    expect(seen.zygote).toEqual(ALL_REFUSED("EPERM"));
    expect(seen.standby).toEqual([]);
    // The twin: the program's own child. ptrace and process_vm_* are the seccomp profile's to refuse here.
    expect(seen.twin).toEqual({
      ...Object.fromEntries(Object.keys(ALL_REFUSED("")).map((k) => [k, "ok"])),
      process_vm_readv: "EPERM",
      process_vm_writev: "EPERM",
      ptrace_attach: "EPERM",
    });
  });

  test("with seccomp unconfined (only the zygote's identity in the way): the same attacks fail; ptrace, process_vm_readv and process_vm_writev work on the program's own child", async () => {
    const result = await run(unconfined, ATTACK_PROGRAM);
    expect(result.stderr).toBe("");
    const seen = JSON.parse(result.stdout);
    expect(seen.zygotes.length).toBe(1);
    expect(seen.parent_is_zygote).toBe(true);
    expect(seen.zygote).toEqual(ALL_REFUSED("EPERM"));
    expect(seen.standby).toEqual([]);
    expect(seen.twin).toEqual(Object.fromEntries(Object.keys(ALL_REFUSED("")).map((k) => [k, "ok"])));
  });

  test("between executions: a context's code (another uid, alive across executions in the same session container) finds the standby of the next execution and every attack on it and on the zygote fails; the twin works on the context's own child", async () => {
    const own = engine({ mode: "persistent", config: { security: { pythonZygote: true } } });
    const ctx = await own.createContext({ runtime: "python" });
    try {
      // One execution, so that its zygote exists and has forked the standby of the next.
      expect((await run(own, "print('first')")).stdout).toBe("first\n");
      const cell = await ctx.run(`${FIND_ZYGOTE}${ATTACKS}
import subprocess, sys, time
zygote = zygote_pids()
standby = [int(n) for n in os.listdir("/proc") if n.isdigit() and forked_from_zygote(n) and int(n) not in zygote]
twin = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
time.sleep(0.3)
print(json.dumps({
    "zygotes": len(zygote),
    "standby_uids": [status(pid)["Uid"].split() for pid in standby],
    "standby_parents": [int(status(pid)["PPid"]) in zygote for pid in standby],
    "standby": [attacks(pid) for pid in standby],
    "zygote": attacks(zygote[0]) if zygote else None,
    "twin": attacks(twin.pid),
}))
twin.kill()
twin.wait()`);
      expect(cell.stderr).toBe("");
      const seen = JSON.parse(cell.stdout);
      expect(seen.zygotes).toBe(1);
      expect(seen.standby_uids).toEqual([["0", "0", "0", "0"]]);
      expect(seen.standby_parents).toEqual([true]);
      expect(seen.standby).toEqual([ALL_REFUSED("EPERM")]);
      expect(seen.zygote).toEqual(ALL_REFUSED("EPERM"));
      expect(seen.twin.kill0).toBe("ok");
      expect(seen.twin.mem_read).toBe("ok");
      // The standby still takes the next execution.
      expect((await run(own, "print('second')")).stdout).toBe("second\n");
    } finally {
      await ctx.close();
    }
  });

  test("kill(-1, SIGKILL) from a program does not reach the zygote: the next execution comes from the same zygote", async () => {
    const before = JSON.parse((await run(session, `${FIND_ZYGOTE}\nprint(json.dumps(zygote_pids()))`)).stdout);
    // kill(-1) reaches every process the caller may signal but the caller itself.
    const killer = await run(session, "import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('survived')");
    expect(killer.stdout).toBe("survived\n");
    const after = await run(session, `${FIND_ZYGOTE}\nprint(json.dumps(zygote_pids()))`);
    expect(JSON.parse(after.stdout)).toEqual(before);
    expect(before.length).toBe(1);
  });

  test("a zygote killed from outside (as the OOM killer could) takes its standby with it; later executions run, python3 started per execution", async () => {
    const own = engine({ mode: "persistent", config: { security: { pythonZygote: true } } });
    const first = await run(own, `${FIND_ZYGOTE}\nprint(json.dumps(zygote_pids()))`);
    const [zygote] = JSON.parse(first.stdout) as number[];
    expect(zygote).toBeGreaterThan(1);
    // The test, not user code, kills it: as root in the container, from outside the sandbox.
    const killed = spawnSync("docker", ["exec", first.containerId, "kill", "-9", String(zygote)], { encoding: "utf8" });
    expect(killed.status).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the standby's death signal
    const after = await run(own, `${FIND_ZYGOTE}\nimport os\nforked = [n for n in os.listdir("/proc") if n.isdigit() and forked_from_zygote(n)]\nprint(json.dumps([zygote_pids(), forked, os.getuid() != 0]))`);
    expect(after.exitCode).toBe(0);
    expect(after.containerId).toBe(first.containerId);
    expect(JSON.parse(after.stdout)).toEqual([[], [], true]);
    expect((await run(own, "print('still works')")).stdout).toBe("still works\n");
  });

  test("each program has the posture of a python3 the supervisor starts: the same uid columns, capability sets, NoNewPrivs, seccomp mode, dumpable, own session, umask, rlimits, cwd, descriptors and stdio objects", async () => {
    const probe = String.raw`
import json, os, resource, sys
with open("/proc/self/status") as f:
    st = dict((l.partition(":")[0], l.partition(":")[2].strip()) for l in f)
keys = ["Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters"]
mask = os.umask(0); os.umask(mask)
print(json.dumps({
    "status": {k: st.get(k) for k in keys},
    "own_session": os.getsid(0) == os.getpid(),
    "umask": mask,
    "core": resource.getrlimit(resource.RLIMIT_CORE),
    "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
    "cwd": os.getcwd(),
    "dumpable": os.stat("/proc/self/mem").st_uid == os.getuid(),
    "fds": sorted(os.listdir("/proc/self/fd")),
    "stdio": [[s.seekable(), s.isatty(), s.encoding, s.errors, s.line_buffering, s.write_through, type(s.buffer).__name__] for s in (sys.stdin, sys.stdout, sys.stderr)],
}))`;
    const withZygote = JSON.parse((await run(session, probe)).stdout);
    const without = JSON.parse((await run(off, probe)).stdout);
    // The uid differs per container; every other field is the same.
    const uidOf = (s: { status: { Uid: string } }) => s.status.Uid.split(/\s+/)[0] ?? "no uid";
    const normalize = (s: { status: Record<string, string> }, uid: string) =>
      JSON.parse(JSON.stringify(s).replaceAll(uid, "UID"));
    expect(normalize(withZygote, uidOf(withZygote))).toEqual(normalize(without, uidOf(without)));
    expect(withZygote.status.CapEff).toBe("0000000000000000");
    expect(withZygote.status.NoNewPrivs).toBe("1");
    expect(withZygote.status.Seccomp).toBe("2");
    expect(withZygote.own_session).toBe(true);
  });

  test("under the same pidsLimit a program forked from the zygote starts exactly as many processes as one the supervisor starts (the zygote is its runner, no standby exists meanwhile)", async () => {
    const forks = String.raw`
import os, time
n = 0
while n < 200:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(5)
        os._exit(0)
    n += 1
print(n)`;
    const withZygote = await run(session, forks, { pidsLimit: 16 });
    const without = await run(off, forks, { pidsLimit: 16 });
    expect(Number(without.stdout)).toBeGreaterThan(5);
    expect(withZygote.stdout).toBe(without.stdout);
    // Still works: the next program of the zygote's container runs.
    expect((await run(session, "print('after')")).stdout).toBe("after\n");
  });

  test("the CPU time reported for a program counts from its request: not what its standby spent before (its rehearsal), but all of the program's own work", async () => {
    // The program reads its process's CPU time (standby, drop, its own code) at its last line;
    // the report is that, less the standby's part, plus the exit. Without the subtraction the
    // report is never below it (the same process, later). Medians of seven runs.
    const selfSeen = "import resource\nr = resource.getrusage(resource.RUSAGE_SELF)\nprint((r.ru_utime + r.ru_stime) * 1000)";
    const seen: number[] = [];
    const reported: number[] = [];
    for (let i = 0; i < 7; i++) {
      const result = await run(session, selfSeen);
      seen.push(Number(result.stdout));
      reported.push(result.resourceUsage.cpuTimeMs);
    }
    const median = (values: number[]) => [...values].sort((x, y) => x - y)[3]!;
    expect(median(reported)).toBeLessThan(median(seen));
    // Still counted: the program's own work, measured by itself between its first and last line.
    const busy = await run(session, "import resource, time\ncpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) * 1000\nstart = cpu()\nwhile cpu() - start < 300: pass\nprint(cpu() - start)");
    expect(busy.resourceUsage.cpuTimeMs).toBeGreaterThanOrEqual(Math.floor(Number(busy.stdout)) - 1);
  });

  test("the switch: with pythonZygote false no zygote runs and python programs still run", async () => {
    const result = await run(off, `${FIND_ZYGOTE}\nprint(json.dumps(zygote_pids()))`);
    expect(JSON.parse(result.stdout)).toEqual([]);
    const pooledResult = await run(pooled, `${FIND_ZYGOTE}\nprint(json.dumps(zygote_pids()))`);
    expect(JSON.parse(pooledResult.stdout).length).toBe(1);
  });
});

describe.skipIf(gvisor)("python zygote: nothing of execution N in N+1", () => {
  const POISON = String.raw`
import builtins, json, os, random, sys, threading, time
builtins.POISONED = True
json.dumps = lambda *a, **k: "poisoned"
os.environ["ISOL8_LEAK"] = "1"
os.putenv("ISOL8_LEAK_PUTENV", "1")
sys.path.insert(0, "/tmp/evil")
sys.modules["fakemod"] = type(sys)("fakemod")
sys.modules["random"].POISONED = True
kept = open("/tmp/n-file", "w")
os.dup2(kept.fileno(), 50)
threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
print(random.random())
`;
  const CHECK = String.raw`
import builtins, ctypes, json, os, random, sys, threading
print(json.dumps({
    "ctypes_errno": ctypes.get_errno(),
    "builtins": hasattr(builtins, "POISONED"),
    "json": json.dumps([1]),
    "env": [k for k in os.environ if k.startswith("ISOL8_LEAK")],
    "path": "/tmp/evil" in sys.path,
    "fakemod": "fakemod" in sys.modules,
    "random_poisoned": hasattr(random, "POISONED"),
    "random": random.random(),
    "threads": [t.name for t in threading.enumerate()],
    "tasks": len(os.listdir("/proc/self/task")),
    "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
    "modules": sorted(sys.modules),
}))`;

  for (const [name, on] of [
    ["a session container", () => session],
    ["a pooled container", () => pooled],
  ] as const) {
    test(`${name}: monkeypatched modules, sys.modules, sys.path, env, open files, threads and random state of N are absent in N+1`, async () => {
      const fresh = JSON.parse((await run(off, CHECK)).stdout);
      const first = await run(on(), POISON);
      expect(first.exitCode).toBe(0);
      const seen = JSON.parse((await run(on(), CHECK)).stdout);
      expect(seen).toEqual({
        ctypes_errno: 0,
        builtins: false,
        json: "[1]",
        env: [],
        path: false,
        fakemod: false,
        random_poisoned: false,
        random: seen.random,
        threads: ["MainThread"],
        tasks: 1,
        fds: [0, 1, 2, 3],
        modules: fresh.modules,
      });
      expect(seen.random).not.toBe(Number(first.stdout));
      // Two runs do not share a random sequence either.
      const again = JSON.parse((await run(on(), CHECK)).stdout);
      expect(again.random).not.toBe(seen.random);
    });
  }

  test("same semantics as python3 <file>: argv, stdin, env, secrets, exit codes, tracebacks, SystemExit, atexit, non-daemon threads, __main__", async () => {
    const program = String.raw`
import atexit, os, sys, threading, time
atexit.register(lambda: print("atexit ran", flush=True))
def late():
    time.sleep(0.2)
    print("thread done", flush=True)
threading.Thread(target=late).start()
print(sys.argv, __name__, __file__, sys.path[0], os.environ.get("GREETING"), os.environ.get("TOKEN"), sys.stdin.read())
sys.exit(int(sys.argv[1]))
`;
    for (const on of [session, off]) {
      const result = await run(on, program, { args: ["7", "b"], stdin: "from stdin", env: { GREETING: "hi" }, secrets: { TOKEN: "s3cr3t-value" } });
      expect(result.exitCode).toBe(7);
      expect(result.stdout).toBe("['/sandbox/main.py', '7', 'b'] __main__ /sandbox/main.py /sandbox hi *** from stdin\nthread done\natexit ran\n");
    }
    for (const code of ["raise ValueError('boom')", "print(", "import sys; sys.exit('bye')", "import sys; sys.exit()"]) {
      const a = await run(session, code);
      const b = await run(off, code);
      expect({ exit: a.exitCode, out: a.stdout, err: a.stderr }).toEqual({ exit: b.exitCode, out: b.stdout, err: b.stderr });
    }
  });

  test("as python3 exits: files left open are flushed and closed, __del__ runs (module globals still seen, cycles, a module the program imported), generators' finally blocks run, an import from __del__ fails, daemon threads stay quiet, exit status kept", async () => {
    // Found while timing the exit: the zygote's child ended with os._exit after atexit, so a
    // file written without close() came back empty and no __del__ ran. The order of finalizers
    // at exit is CPython's gc order (unspecified): each case checks what ran, not the order.
    const files = { "helper_mod.py": 'class K:\n    def __del__(self): print("helper_mod K del")\nk = K()\nvalue = 41\n' };
    const cases: Record<string, { code: string; stdout: string; file?: string; exitCode?: number }> = {
      "open file": { code: 'import csv, json\nf = open("/sandbox/out.txt", "w", newline="")\ncsv.writer(f).writerow(["a", 1])\njson.dump({"k": 2}, f)\n', stdout: "", file: 'a,1\r\n{"k": 2}' },
      "globals seen": { code: 'import sys\nhelper = "helper"\n_private = "private"\nclass C:\n    def __del__(self): print("sees", helper, _private, sys is not None)\nc = C()\n', stdout: "sees helper private True\n" },
      cycle: { code: 'class N:\n    def __init__(self, n): self.n = n\n    def __del__(self): print("del", self.n)\na = N("a"); b = N("b"); a.other = b; b.other = a\n', stdout: "del a\ndel b\n" },
      generator: { code: 'def gen():\n    try:\n        yield 1\n    finally:\n        print("generator finally")\ng = gen(); next(g)\n', stdout: "generator finally\n" },
      "imported module": { code: "import helper_mod\nprint(helper_mod.value)\n", stdout: "41\nhelper_mod K del\n" },
      "import in __del__": { code: 'class C:\n    def __del__(self):\n        try:\n            import json\n            print("imported")\n        except ImportError:\n            print("ImportError")\nc = C()\n', stdout: "ImportError\n" },
      "sys.exit": { code: 'import sys\nclass D:\n    def __del__(self): print("del before exit")\nd = D()\nsys.exit(3)\n', stdout: "del before exit\n", exitCode: 3 },
      "a daemon thread still running": { code: 'import json, threading, time\ndata = {"k": list(range(100))}\ndef spin():\n    while True:\n        json.dumps(data)\nthreading.Thread(target=spin, daemon=True).start()\ntime.sleep(0.02)\nprint("main done")\n', stdout: "main done\n" },
      "weakref dying with its referent": { code: "import weakref\nclass T: pass\nt = T()\nr = weakref.ref(t, lambda ref: print('callback'))\n", stdout: "" },
    };
    for (const [name, expected] of Object.entries(cases)) {
      const seen = [];
      for (const on of [session, pooled, off]) {
        const result = await run(on, expected.code, { files, ...(expected.file ? { outputPaths: ["out.txt"] } : {}) });
        const file = result.files?.["out.txt"];
        seen.push({ name, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, file: file === undefined ? undefined : Buffer.from(file, "base64").toString() });
      }
      const [fromZygote, pooledZygote, fresh] = seen;
      expect(fresh).toEqual({ name, exitCode: expected.exitCode ?? 0, stdout: expected.stdout, stderr: "", file: expected.file });
      expect(fromZygote).toEqual(fresh);
      expect(pooledZygote).toEqual(fresh);
    }
  });

  test("what the zygote cannot start like a fresh python3 (PYTHON* / LC_* / LANG entries) still behaves as one: python3 is exec'd after the same drop", async () => {
    const result = await run(session, "import sys; print(sys.flags.optimize, sys.flags.dont_write_bytecode)", { env: { PYTHONOPTIMIZE: "2" } });
    expect(result.stdout).toBe("2 1\n");
  });
});

describe("python zygote: never under gVisor", () => {
  const gvisorSession = engine({ mode: "persistent", config: { security: { runtime: "gvisor", pythonZygote: true } } });
  test("a gVisor container starts no zygote (clone3 there needs drop_and_exec's ENOSYS filter); python programs still run, threads included", async () => {
    const result = await run(gvisorSession, `${FIND_ZYGOTE}\nimport threading\nt = threading.Thread(target=print, args=("thread",)); t.start(); t.join()\nprint(json.dumps(zygote_pids()))`);
    expect(result.stdout).toBe("thread\n[]\n");
  });
});
