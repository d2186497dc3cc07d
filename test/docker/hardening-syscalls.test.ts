// docs/SECURITY.md A2 (dangerous syscalls are denied) and A3 (ordinary process, thread and
// async APIs of every runtime still work under the strict seccomp profile).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import { TEST_ISOLATION, testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";

const EPERM = 1;
const EINVAL = 22;
const ENOSYS = 38;
const gvisor = TEST_ISOLATION === "gvisor";

/**
 * personality(2) values: the ones the strict profile admits (those of Docker's default
 * profile, docs/SECURITY.md I2), and every other flag the kernel knows, alone and mixed with
 * an admitted persona. The read-only query (0xffffffff) is probed on its own below.
 */
const PERSONAS_ALLOWED: [string, number][] = [
  ["PER_LINUX", 0],
  ["PER_LINUX32", 0x0008],
  ["UNAME26", 0x0020000],
  ["UNAME26|PER_LINUX32", 0x0020008],
];
const PERSONAS_REFUSED: [string, number][] = [
  ["READ_IMPLIES_EXEC", 0x0400000],
  ["MMAP_PAGE_ZERO", 0x0100000],
  ["ADDR_COMPAT_LAYOUT", 0x0200000],
  ["ADDR_LIMIT_32BIT", 0x0800000],
  ["SHORT_INODE", 0x1000000],
  ["WHOLE_SECONDS", 0x2000000],
  ["STICKY_TIMEOUTS", 0x4000000],
  ["ADDR_LIMIT_3GB", 0x8000000],
  ["FDPIC_FUNCPTRS", 0x0080000],
  ["PER_SVR4", 0x04100001],
  ["PER_BSD", 0x0006],
  ["PER_LINUX32|READ_IMPLIES_EXEC", 0x0400008],
  ["UNAME26|ADDR_NO_RANDOMIZE", 0x0060000],
  ["0xfffffffe (one bit off the query)", 0xfffffffe],
  ["0x1ffffffff (the query with a high bit)", 0x1ffffffff],
];

/**
 * Calls each syscall through libc's syscall(2) and prints `{name: [rc, errno]}` as JSON.
 * Each probe runs in its own forked child, so one that succeeds where it should not
 * (unshare, personality) cannot change what the next probe sees.
 */
const PROBE = `
import ctypes, json, os, socket

PERSONAS_JSON = '${JSON.stringify(Object.fromEntries([...PERSONAS_ALLOWED, ...PERSONAS_REFUSED]))}'

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def sc(*args):
    ctypes.set_errno(0)
    rc = libc.syscall(*(ctypes.c_long(a) for a in args))
    return [rc, ctypes.get_errno() if rc == -1 else 0]

def sock(family, kind):
    try:
        socket.socket(family, kind).close()
        return [0, 0]
    except OSError as e:
        return [-1, e.errno]

PERSONAS = json.loads(PERSONAS_JSON)

PROBES = {
    "unshare(CLONE_NEWUSER)": lambda: sc(272, 0x10000000),
    "mount": lambda: sc(165, 0, 0, 0, 0, 0),
    "setns": lambda: sc(308, 0, 0),
    "keyctl": lambda: sc(250, 0, 0, 0, 0, 0),
    "add_key": lambda: sc(248, 0, 0, 0, 0, 0),
    "bpf": lambda: sc(321, 0, 0, 0),
    "perf_event_open": lambda: sc(298, 0, 0, -1, -1, 0),
    "userfaultfd": lambda: sc(323, 0),
    "io_uring_setup": lambda: sc(425, 1, 0),
    "kexec_load": lambda: sc(246, 0, 0, 0, 0),
    "init_module": lambda: sc(175, 0, 0, 0),
    "open_by_handle_at": lambda: sc(304, 0, 0, 0),
    "ptrace(PTRACE_ATTACH, 1)": lambda: sc(101, 16, 1, 0, 0),
    "personality(ADDR_NO_RANDOMIZE)": lambda: sc(135, 0x0040000),
    "personality(query)": lambda: sc(135, 0xFFFFFFFF),
    **{f"personality({name})": (lambda value: lambda: sc(135, value))(value) for name, value in PERSONAS.items()},
    "clone3": lambda: sc(435, 0, 0),
    "socket(AF_VSOCK)": lambda: sock(40, socket.SOCK_STREAM),
    "socket(AF_ALG)": lambda: sock(38, socket.SOCK_SEQPACKET),
    "socket(AF_PACKET)": lambda: sock(17, socket.SOCK_RAW),
    "socket(AF_UNIX)": lambda: sock(socket.AF_UNIX, socket.SOCK_STREAM),
    "socket(AF_INET)": lambda: sock(socket.AF_INET, socket.SOCK_STREAM),
    "socket(AF_INET6)": lambda: sock(socket.AF_INET6, socket.SOCK_DGRAM),
}

def isolated(probe):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(w, json.dumps(probe()).encode())
        os._exit(0)
    os.close(w)
    data = os.read(r, 4096)
    os.waitpid(pid, 0)
    return json.loads(data)

print(json.dumps({name: isolated(probe) for name, probe in PROBES.items()}))
`;

type ProbeResults = Record<string, [rc: number, errno: number]>;

const DENIED_WITH_EPERM = [
  "unshare(CLONE_NEWUSER)",
  "mount",
  "setns",
  "keyctl",
  "add_key",
  "bpf",
  "perf_event_open",
  "userfaultfd",
  "io_uring_setup",
  "kexec_load",
  "init_module",
  "open_by_handle_at",
  "ptrace(PTRACE_ATTACH, 1)",
  "personality(ADDR_NO_RANDOMIZE)",
  "socket(AF_VSOCK)",
  "socket(AF_ALG)",
  "socket(AF_PACKET)",
] as const;

const engine = testEngine();

afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

async function probe(isol8: DockerIsol8): Promise<ProbeResults> {
  const result = await isol8.execute({ runtime: "python", code: PROBE, timeoutMs: 30_000 });
  expect(result).toMatchObject({ exitCode: 0, stderr: "" });
  return JSON.parse(result.stdout) as ProbeResults;
}

describe("A2 dangerous-syscall matrix under the strict profile", () => {
  let strict: ProbeResults = {};
  beforeAll(async () => {
    strict = await probe(engine);
  }, 60_000);

  test.each([...DENIED_WITH_EPERM])("%s fails with -1 EPERM", (name) => {
    expect(strict[name]).toEqual([-1, EPERM]);
  });

  test("clone3 fails with ENOSYS (so libc falls back to clone, which the profile filters)", () => {
    expect(strict.clone3).toEqual([-1, ENOSYS]);
  });

  test("still works: the personality query succeeds (gVisor: its own kernel answers EINVAL, with or without the profile)", () => {
    const [rc, errno] = strict["personality(query)"] ?? [-1, -1];
    if (gvisor) {
      // gVisor does not implement the 0xffffffff query: the unconfined run below gets the same.
      expect([rc, errno]).toEqual([-1, EINVAL]);
      return;
    }
    expect(rc).toBeGreaterThanOrEqual(0);
    expect(errno).toBe(0);
  });

  test.each(PERSONAS_REFUSED.map(([name]) => name))("personality(%s) fails with -1 EPERM", (name) => {
    expect(strict[`personality(${name})`]).toEqual([-1, EPERM]);
  });

  test.each(PERSONAS_ALLOWED.map(([name]) => name))("still works: personality(%s) passes the profile (Docker's default personas)", (name) => {
    const [rc, errno] = strict[`personality(${name})`] ?? [-1, -1];
    if (gvisor && rc === -1) {
      // gVisor's own kernel implements few personas: EINVAL is its answer, never the profile's EPERM.
      expect(errno).toBe(EINVAL);
      return;
    }
    expect(rc).toBeGreaterThanOrEqual(0);
    expect(errno).toBe(0);
  });

  test.each(["socket(AF_UNIX)", "socket(AF_INET)", "socket(AF_INET6)"])("still works: %s succeeds", (name) => {
    expect(strict[name]).toEqual([0, 0]);
  });

  test("the probe is real: without seccomp the same script gets a different result set", async () => {
    const loose = testEngine({ config: { security: { seccomp: "unconfined" } } });
    try {
      const unconfined = await probe(loose);
      expect(Object.keys(unconfined).sort()).toEqual(Object.keys(strict).sort());
      expect(unconfined).not.toEqual(strict);
      if (gvisor) {
        // gVisor refuses personality itself (EINVAL) but implements user namespaces: only the
        // profile was stopping unshare(CLONE_NEWUSER), inside gVisor's kernel.
        expect(unconfined["personality(ADDR_NO_RANDOMIZE)"]).toEqual([-1, EINVAL]);
        expect(unconfined["personality(query)"]).toEqual(strict["personality(query)"]!);
        expect(unconfined["unshare(CLONE_NEWUSER)"]).toEqual([0, 0]);
      } else {
        // personality needs no capability, so only seccomp was stopping it.
        expect(unconfined["personality(ADDR_NO_RANDOMIZE)"]?.[0]).toBe(0);
        // The kernel takes any persona: every refusal above is the profile's.
        for (const [name] of PERSONAS_REFUSED) expect([name, unconfined[`personality(${name})`]?.[1]]).toEqual([name, 0]);
      }
      // These stay denied without seccomp: the missing capabilities (CAP_SYS_PTRACE over
      // root's PID 1, CAP_NET_RAW) are a second, independent layer.
      expect(unconfined["ptrace(PTRACE_ATTACH, 1)"]).toEqual([-1, EPERM]);
      expect(unconfined["socket(AF_PACKET)"]).toEqual([-1, EPERM]);
    } finally {
      await loose.stop();
      expect(await ownedContainers(loose)).toEqual([]);
    }
  }, 60_000);
});

describe("A3 harmless siblings still work under the strict profile", () => {
  test("python: fork, multiprocessing Pool(2) and subprocess print `ok [1] 0`", async () => {
    const code =
      "import os,subprocess,multiprocessing as m;p=os.fork();p or os._exit(0);os.waitpid(p,0);" +
      "print('ok',m.Pool(2).map(abs,[-1]),subprocess.run(['true']).returncode)";
    const result = await engine.execute({ runtime: "python", code, timeoutMs: 30_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: "ok [1] 0\n" });
  }, 60_000);

  test("python: asyncio tasks and an asyncio subprocess", async () => {
    const code = [
      "import asyncio",
      "async def main():",
      "    proc = await asyncio.create_subprocess_exec('echo', 'sub', stdout=asyncio.subprocess.PIPE)",
      "    out, _ = await proc.communicate()",
      "    values = await asyncio.gather(*(asyncio.sleep(0.01, result=i) for i in range(3)))",
      "    print(out.decode().strip(), values, proc.returncode)",
      "asyncio.run(main())",
    ].join("\n");
    const result = await engine.execute({ runtime: "python", code, timeoutMs: 30_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: "sub [0, 1, 2] 0\n" });
  }, 60_000);

  test("node: worker_threads and child_process", async () => {
    const code = `
import { Worker } from "node:worker_threads";
import { execFileSync } from "node:child_process";
const fromWorker = await new Promise((resolve, reject) => {
  const worker = new Worker("require('node:worker_threads').parentPort.postMessage(21 * 2)", { eval: true });
  worker.once("message", resolve);
  worker.once("error", reject);
});
const fromChild = execFileSync("sh", ["-c", "echo child"]).toString().trim();
console.log("worker", fromWorker, fromChild);
`;
    const result = await engine.execute({ runtime: "node", code, timeoutMs: 30_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: "worker 42 child\n" });
  }, 60_000);

  test("bun: Bun.spawn", async () => {
    const code = `
const proc = Bun.spawn(["sh", "-c", "echo spawned"]);
const out = await new Response(proc.stdout).text();
console.log(out.trim(), await proc.exited);
`;
    const result = await engine.execute({ runtime: "bun", code, timeoutMs: 30_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: "spawned 0\n" });
  }, 60_000);

  test("deno: Deno.Command", async () => {
    const code = `
const out = await new Deno.Command("sh", { args: ["-c", "echo spawned"] }).output();
console.log(new TextDecoder().decode(out.stdout).trim(), out.code);
`;
    const result = await engine.execute({ runtime: "deno", code, timeoutMs: 30_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: "spawned 0\n" });
  }, 60_000);
});
