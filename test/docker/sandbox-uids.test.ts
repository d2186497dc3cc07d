// Each container runs programs under its own uid (docs/SECURITY.md I1, I4, B-series): the
// kernel counts several limits per uid (inotify instances, pending signals, message-queue
// bytes, pipe buffers), so with a shared uid one tenant could exhaust them for every other.
// Two concurrent executions get different uids; exhausting inotify instances, the pending
// signal queue, message-queue bytes or pipe buffer pages in one leaves the other working,
// while a second process of the SAME uid is refused (the exhaustion is real). Programs asking who they are still get an answer, and
// cannot change that answer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { defaultConfig } from "../../src/config/schema";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { StreamEvent } from "../../src/protocol/execution";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";
import { buildTinyWheel } from "./tiny-wheel";

const RANGE = defaultConfig().security.sandboxUids;
let engine: DockerIsol8;
beforeAll(async () => {
  engine = testEngine({ config: { poolSize: { clean: 2, dirty: 1 } } });
  await engine.start({ prewarm: ["python"] });
}, 120_000);
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

/**
 * Starts an execution and resolves once its stdout has a line starting with `marker`: the
 * exhausting program holds what it took while the other execution runs. `finish` stops it.
 */
async function holding(code: string, marker: string): Promise<{ line: string; finish: () => Promise<string> }> {
  const abort = new AbortController();
  const events = engine.executeStream({ runtime: "python", code, timeoutMs: 60_000 }, { signal: abort.signal });
  let stdout = "";
  for (;;) {
    const next = await events.next();
    if (next.done) throw new Error(`the holder ended before "${marker}": ${stdout}`);
    const event = next.value as StreamEvent;
    if (event.type === "error") throw new Error(`the holder failed: ${event.data}`);
    if (event.type === "stdout") stdout += event.data;
    const line = stdout.split("\n").find((l) => l.startsWith(marker));
    if (line) {
      return {
        line,
        finish: async () => {
          abort.abort();
          for await (const event of events) if (event.type === "stdout") stdout += event.data;
          return stdout;
        },
      };
    }
  }
}

const INOTIFY = `
import ctypes, os, subprocess, sys, time
libc = ctypes.CDLL(None, use_errno=True)
held = []
while True:
    fd = libc.inotify_init1(0)
    if fd < 0:
        err = ctypes.get_errno()
        break
    held.append(fd)
# a second process of the same uid cannot create one either: the limit is the uid's
probe = "import ctypes; libc = ctypes.CDLL(None, use_errno=True); fd = libc.inotify_init1(0); print(fd >= 0, ctypes.get_errno())"
same_uid = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True).stdout.strip()
print(f'exhausted uid={os.getuid()} instances={len(held)} errno={err} same-uid-child={same_uid}', flush=True)
time.sleep(50)
`;

const INOTIFY_ONE = `
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
print(f'uid={os.getuid()} created={fd >= 0} errno={ctypes.get_errno() if fd < 0 else 0}')
`;

// RLIMIT_SIGPENDING counts queued signals per real uid. sigqueue (unlike kill) fails with
// EAGAIN at the limit, so the program can tell.
const SIGNALS_HELPERS = `
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
class sigval(ctypes.Union):
    _fields_ = [('sival_int', ctypes.c_int), ('sival_ptr', ctypes.c_void_p)]
libc.sigqueue.argtypes = [ctypes.c_int, ctypes.c_int, sigval]
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGRTMIN])
def queue_one():
    return libc.sigqueue(os.getpid(), signal.SIGRTMIN, sigval(0)) == 0, ctypes.get_errno()
`;

const SIGNALS = `${SIGNALS_HELPERS}
import subprocess, sys, time, resource
queued = 0
while True:
    ok, err = queue_one()
    if not ok:
        break
    queued += 1
probe = ${JSON.stringify(SIGNALS_HELPERS)} + "\\nprint(queue_one())"
same_uid = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True).stdout.strip()
print(f'exhausted uid={os.getuid()} queued={queued} limit={resource.getrlimit(resource.RLIMIT_SIGPENDING)[0]} errno={err} same-uid-child={same_uid}', flush=True)
time.sleep(50)
`;

// RLIMIT_MSGQUEUE (819,200 bytes by default) counts the bytes of every POSIX message queue
// a uid has open; past it mq_open fails with EMFILE. Each default queue (10 × 8 KiB) costs
// about 80 KiB, so about nine exhaust it.
const MQUEUE_HELPERS = `
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def mq(name):
    fd = libc.mq_open(name.encode(), os.O_CREAT | os.O_RDWR, 0o600, None)
    return fd >= 0, ctypes.get_errno() if fd < 0 else 0
`;

const MQUEUE = `${MQUEUE_HELPERS}
import resource, subprocess, sys, time
held = 0
while True:
    ok, err = mq(f'/held{held}')
    if not ok:
        break
    held += 1
probe = ${JSON.stringify(MQUEUE_HELPERS)} + "\\nprint(mq('/same-uid'))"
same_uid = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True).stdout.strip()
print(f'exhausted uid={os.getuid()} queues={held} limit={resource.getrlimit(resource.RLIMIT_MSGQUEUE)[0]} errno={err} same-uid-child={same_uid}', flush=True)
time.sleep(50)
`;

// fs.pipe-user-pages-soft (16,384 pages) counts the buffer pages of every pipe a uid has
// open; past it an unprivileged uid's new pipes get the minimum buffer and F_SETPIPE_SZ is
// EPERM. 1 MiB pipes (256 pages each) reach it after 64.
const PIPES_HELPERS = `
import fcntl, os
F_SETPIPE_SZ, F_GETPIPE_SZ = 1031, 1032
def new_pipe_size():
    r, w = os.pipe()
    return fcntl.fcntl(w, F_GETPIPE_SZ)
`;

const PIPES = `${PIPES_HELPERS}
import subprocess, sys, time
held = []
while True:
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, F_SETPIPE_SZ, 1 << 20)
    except OSError as e:
        err = e.errno
        break
    held.append((r, w))
probe = ${JSON.stringify(PIPES_HELPERS)} + "\\nprint(new_pipe_size())"
same_uid = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True).stdout.strip()
print(f'exhausted uid={os.getuid()} pipes={len(held)} errno={err} new-pipe={new_pipe_size()} same-uid-child={same_uid}', flush=True)
time.sleep(50)
`;

describe("one uid per container", () => {
  test("two concurrent executions run as different uids from the configured range, in different containers", async () => {
    const code = "import os, time\nprint(os.getuid(), os.getgid())\ntime.sleep(1)";
    const [a, b] = await Promise.all([engine.execute({ runtime: "python", code }), engine.execute({ runtime: "python", code })]);
    expect(a.containerId).not.toBe(b.containerId);
    const [uidA, gidA] = a.stdout.trim().split(" ").map(Number);
    const [uidB, gidB] = b.stdout.trim().split(" ").map(Number);
    expect(uidA).not.toBe(uidB);
    expect([gidA, gidB]).toEqual([uidA, uidB]);
    for (const uid of [uidA!, uidB!]) {
      expect(uid).toBeGreaterThanOrEqual(RANGE.from);
      expect(uid).toBeLessThanOrEqual(RANGE.to);
    }
  }, 60_000);

  test("exhausting inotify instances in one container does not make the other fail", async () => {
    const holder = await holding(INOTIFY, "exhausted");
    console.log(`inotify holder: ${holder.line}`);
    try {
      const [, uid, instances, errno, sameUid] = /uid=(\d+) instances=(\d+) errno=(\d+) same-uid-child=(.*)$/.exec(holder.line)!;
      expect(Number(instances)).toBeGreaterThan(0);
      expect(errno).toBe("24"); // EMFILE: the per-user instance limit
      expect(sameUid).toBe("False 24"); // the probe is real: the same uid is out of instances
      const other = await engine.execute({ runtime: "python", code: INOTIFY_ONE });
      expect(other.stdout).not.toContain(`uid=${uid} `);
      expect(other.stdout).toMatch(/created=True errno=0/);
    } finally {
      await holder.finish();
    }
  }, 90_000);

  test("exhausting the pending-signal queue in one container does not make the other fail", async () => {
    const holder = await holding(SIGNALS, "exhausted");
    console.log(`signal holder: ${holder.line}`);
    try {
      const [, uid, queued, limit, errno, sameUid] = /uid=(\d+) queued=(\d+) limit=(\d+) errno=(\d+) same-uid-child=(.*)$/.exec(holder.line)!;
      expect(Number(queued)).toBeGreaterThan(0);
      expect(Number(queued)).toBeLessThanOrEqual(Number(limit));
      expect(errno).toBe("11"); // EAGAIN: the uid's queue is full
      expect(sameUid).toBe("(False, 11)"); // the probe is real: the same uid cannot queue one more
      const other = await engine.execute({ runtime: "python", code: `${SIGNALS_HELPERS}\nprint(os.getuid(), queue_one())` });
      expect(other.stdout).not.toStartWith(`${uid} `);
      expect(other.stdout).toMatch(/^\d+ \(True, 0\)\n$/);
    } finally {
      await holder.finish();
    }
  }, 90_000);

  test("exhausting POSIX message-queue bytes in one container does not make the other fail", async () => {
    const holder = await holding(MQUEUE, "exhausted");
    console.log(`mqueue holder: ${holder.line}`);
    try {
      const [, uid, queues, limit, errno, sameUid] = /uid=(\d+) queues=(\d+) limit=(\d+) errno=(\d+) same-uid-child=(.*)$/.exec(holder.line)!;
      expect(Number(queues)).toBeGreaterThan(0);
      expect(Number(queues) * 10 * 8192).toBeLessThanOrEqual(Number(limit)); // it stopped at the byte limit, not a count
      expect(errno).toBe("24"); // EMFILE: the uid's RLIMIT_MSGQUEUE is used up
      expect(sameUid).toBe("(False, 24)"); // the probe is real: the same uid cannot open one more
      const other = await engine.execute({ runtime: "python", code: `${MQUEUE_HELPERS}\nprint(os.getuid(), mq('/mine'), mq('/mine2'))` });
      expect(other.stdout).not.toStartWith(`${uid} `);
      expect(other.stdout).toMatch(/^\d+ \(True, 0\) \(True, 0\)\n$/);
    } finally {
      await holder.finish();
    }
  }, 90_000);

  test("exhausting pipe buffer pages in one container does not shrink the other's pipes", async () => {
    const holder = await holding(PIPES, "exhausted");
    console.log(`pipe holder: ${holder.line}`);
    try {
      const [, uid, pipes, errno, newPipe, sameUid] = /uid=(\d+) pipes=(\d+) errno=(\d+) new-pipe=(\d+) same-uid-child=(\d+)$/.exec(holder.line)!;
      expect(Number(pipes)).toBeGreaterThanOrEqual(64);
      expect(errno).toBe("1"); // EPERM: over the uid's soft limit, a pipe cannot grow
      // the probe is real: the same uid's new pipes, in this process and in a child, get the minimum
      expect(Number(newPipe)).toBeLessThan(65_536);
      expect(Number(sameUid)).toBeLessThan(65_536);
      const other = await engine.execute({
        runtime: "python",
        code: `${PIPES_HELPERS}\nr, w = os.pipe()\nprint(os.getuid(), new_pipe_size(), fcntl.fcntl(w, F_SETPIPE_SZ, 1 << 20))`,
      });
      expect(other.stdout).not.toStartWith(`${uid} `);
      expect(other.stdout).toMatch(/^\d+ 65536 1048576\n$/);
    } finally {
      await holder.finish();
    }
  }, 90_000);

  test("a reused container keeps its uid (reuse proven), and /sandbox stays owned by it after the wipe", async () => {
    const pooled = testEngine({ config: { poolSize: { clean: 1, dirty: 1 } } });
    try {
      const code = "import os\nprint(os.getuid(), os.stat('/sandbox').st_uid)";
      const a = await pooled.execute({ runtime: "python", code });
      await pooled.poolIdle();
      const b = await pooled.execute({ runtime: "python", code });
      expect(b.containerId).toBe(a.containerId);
      expect(b.stdout).toBe(a.stdout);
      const [uid, owner] = a.stdout.trim().split(" ");
      expect(owner).toBe(uid);
    } finally {
      await pooled.stop();
      expect(await ownedContainers(pooled)).toEqual([]);
    }
  }, 60_000);
});

describe("programs that ask who they are", () => {
  test("id, whoami, getent and $HOME name the sandbox user with the container's uid", async () => {
    const r = await engine.execute({ runtime: "bash", code: 'id; whoami; getent passwd "$(id -u)"; getent group "$(id -g)"; echo "$HOME"' });
    expect(r.exitCode).toBe(0);
    const uid = Number(/uid=(\d+)/.exec(r.stdout)?.[1]);
    expect(uid).toBeGreaterThanOrEqual(RANGE.from);
    expect(r.stdout).toBe(
      `uid=${uid}(sandbox) gid=${uid}(sandbox) groups=${uid}(sandbox)\nsandbox\nsandbox:x:${uid}:${uid}:isol8 sandbox:/sandbox:/bin/bash\nsandbox:x:${uid}:\n/sandbox\n`,
    );
  }, 60_000);

  test("python: getpass.getuser(), pwd.getpwuid(), grp.getgrgid() and the image's own users", async () => {
    const r = await engine.execute({
      runtime: "python",
      code: "import getpass, grp, os, pwd\nme = pwd.getpwuid(os.getuid())\nprint(getpass.getuser(), me.pw_name, me.pw_dir, grp.getgrgid(os.getgid()).gr_name, pwd.getpwnam('root').pw_uid, pwd.getpwnam('nobody').pw_uid)",
    });
    expect(r.stdout).toBe("sandbox sandbox /sandbox sandbox 0 65534\n");
  }, 60_000);

  test("node: os.userInfo() and os.homedir()", async () => {
    const r = await engine.execute({
      runtime: "node",
      code: 'import os from "node:os";\nconst me = os.userInfo();\nconsole.log(me.username, me.uid === process.getuid(), me.homedir, os.homedir());',
    });
    expect(r.stdout).toBe("sandbox true /sandbox /sandbox\n");
  }, 60_000);

  test("pip install --user of a local wheel works under the container's uid", async () => {
    const wheel = buildTinyWheel("installed as the container's uid");
    const r = await engine.execute({
      runtime: "python",
      files: { [`/sandbox/${wheel.fileName}`]: wheel.bytes },
      code: [
        "import subprocess, sys, os",
        `p = subprocess.run([sys.executable, '-m', 'pip', 'install', '--user', '--no-index', '-q', '/sandbox/${wheel.fileName}'], capture_output=True, text=True)`,
        "print(p.returncode, p.stderr[-300:])",
        "import site; sys.path.append(site.getusersitepackages())",
        "import tinypkg; print(tinypkg.VALUE, tinypkg.__file__.startswith('/sandbox/.local/'), os.stat(tinypkg.__file__).st_uid == os.getuid())",
      ].join("\n"),
      timeoutMs: 60_000,
    });
    expect(r.stdout).toBe("0 \ninstalled as the container's uid True True\n");
  }, 90_000);

  test("the passwd and group files cannot be changed by the program (root-owned, read-only to it)", async () => {
    const r = await engine.execute({
      runtime: "bash",
      code: [
        "for f in /etc/passwd /etc/group /etc/isol8/passwd /etc/isol8/group /etc/isol8/shadow; do",
        "  (echo 'root2:x:0:0::/:/bin/bash' >> \"$f\") 2>/dev/null && echo \"WROTE $f\" || echo \"refused $f\"",
        "done",
        "ln -sf /sandbox/p /etc/isol8/passwd 2>/dev/null && echo 'RELINKED' || echo 'refused relink'",
        "stat -c '%U %a' /etc/isol8 /etc/isol8/passwd /etc/isol8/group",
        "readlink /etc/passwd /etc/group",
        "grep -c ':x:0:' /etc/passwd",
      ].join("\n"),
    });
    expect(r.stdout).toBe(
      [
        "refused /etc/passwd",
        "refused /etc/group",
        "refused /etc/isol8/passwd",
        "refused /etc/isol8/group",
        "refused /etc/isol8/shadow",
        "refused relink",
        "root 755",
        "root 644",
        "root 644",
        "isol8/passwd",
        "isol8/group",
        "1",
        "",
      ].join("\n"),
    );
  }, 60_000);

  test("the uid does not reach the program's environment", async () => {
    const r = await engine.execute({ runtime: "bash", code: "env | grep -c ISOL8_SANDBOX_UID; true" });
    expect(r.stdout).toBe("0\n");
  }, 60_000);
});

describe("a configured range", () => {
  test("a range of one uid runs every container as that uid", async () => {
    const single = testEngine({ config: { poolSize: 0, security: { sandboxUids: { from: 23_456, to: 23_456 } } } });
    try {
      const r = await single.execute({ runtime: "bash", code: "id -u; stat -c %u /sandbox; whoami" });
      expect(r.stdout).toBe("23456\n23456\nsandbox\n");
    } finally {
      await single.stop();
      expect(await ownedContainers(single)).toEqual([]);
    }
  }, 60_000);
});
