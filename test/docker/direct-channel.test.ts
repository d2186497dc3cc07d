// Real-Docker proof of the direct channel (docs/SECURITY.md A17, I8): the engine talks to each
// supervisor over a unix socket it bind-mounts read-only into that container, in a root-only
// host directory removed as soon as the supervisor connects. User code must not reach it by
// any path: the file system (list, stat, connect), an inherited descriptor, the supervisor's
// /proc entries, or the engine's environment entry. Every "blocked" test has a "still works"
// twin that shows the probe itself would see what it looks for.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDockerClient, type DockerClient } from "../../src/engine/docker";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { RuntimeName } from "../../src/runtimes/registry";
import { TEST_ISOLATION, testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";

const gvisor = TEST_ISOLATION === "gvisor";
/** Each engine of this file gets its own run directory, so what it leaves there can be listed. */
const runDirs: string[] = [];
const engines: DockerIsol8[] = [];

/** An engine whose run directory ($ISOL8_RUN_DIR, read as it is created) is a fresh one; its log lines are kept. */
function engineIn(options: Parameters<typeof testEngine>[0] = {}): { engine: DockerIsol8; runDir: string; logged: string[] } {
  const runDir = mkdtempSync(join(tmpdir(), "isol8-run-dir-"));
  runDirs.push(runDir);
  const logged: string[] = [];
  const saved = process.env.ISOL8_RUN_DIR;
  process.env.ISOL8_RUN_DIR = runDir;
  try {
    const engine = testEngine({ log: (line) => logged.push(line), ...options });
    engines.push(engine);
    return { engine, runDir, logged };
  } finally {
    if (saved === undefined) delete process.env.ISOL8_RUN_DIR;
    else process.env.ISOL8_RUN_DIR = saved;
  }
}

/** Every path under `dir` (files and directories), relative to it. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

/** The transports of the containers an engine started, from its "ready" log lines. */
const transports = (logged: string[]) => logged.flatMap((line) => /ready \(uid \d+, (\w+) channel\)/.exec(line)?.[1] ?? []);

let main: ReturnType<typeof engineIn>;
beforeAll(() => {
  main = engineIn();
});

afterAll(async () => {
  await Promise.all(engines.map((e) => e.stop()));
  for (const e of engines) expect(await ownedContainers(e)).toEqual([]);
  for (const dir of runDirs) {
    // The engine removes its own directory and, as the last engine of its owner, the owner's.
    expect(tree(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }
});

const run = (runtime: RuntimeName, code: string, on: DockerIsol8 = main.engine) => on.execute({ runtime, code, timeoutMs: 30_000 });

/** Python: what reaching `path` (a directory or a socket in it) gives: "ok" or the errno's name. */
const PY_REACH = `
import errno, os, socket
def reach(what, path):
    try:
        if what == "list": os.listdir(path)
        elif what == "stat": os.stat(path)
        elif what == "readlink": os.readlink(path)
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try: s.connect(path)
            finally: s.close()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
`;

/** Bash: how many of its own descriptors are sockets. */
const BASH_SOCKETS = `for f in /proc/$$/fd/*; do readlink "$f"; done | grep -c '^socket:'`;
/** Python: the kinds of the program's open descriptors ("pipe", "socket", paths), sorted. */
const PY_FD_KINDS = `print(sorted(os.readlink(f"/proc/self/fd/{f}").split(":")[0] for f in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{f}")))`;

// Under gVisor there is no direct channel (engine.ts says why): see the last test.
describe.skipIf(gvisor)("A17 the direct channel: user code cannot reach it", () => {
  test("python cannot list the channel's directory, stat or connect to its socket (EACCES), and no environment entry names it", async () => {
    const r = await run(
      "python",
      `${PY_REACH}
print(reach("list", "/run/isol8-channel"), reach("stat", "/run/isol8-channel/channel.sock"), reach("connect", "/run/isol8-channel/channel.sock"))
print(sorted(k for k in os.environ if "CHANNEL" in k))`,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("EACCES EACCES EACCES\n[]\n");
  }, 60_000);

  test("still works: the same probes list, stat and connect to a socket the program made in /sandbox", async () => {
    const r = await run(
      "python",
      `${PY_REACH}
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind("/sandbox/mine.sock")
server.listen(1)
print(reach("list", "/sandbox"), reach("stat", "/sandbox/mine.sock"), reach("connect", "/sandbox/mine.sock"))`,
    );
    expect(r.stdout).toBe("ok ok ok\n");
  }, 60_000);

  test("bash and node cannot list the directory or connect to the socket either", async () => {
    // cd, not ls: coreutils' statx(AT_NO_AUTOMOUNT) gets EINVAL from Debian's gVisor.
    const b = await run("bash", "cd /run/isol8-channel 2>&1; echo status=$?");
    expect(b.stdout).toContain("Permission denied");
    expect(b.stdout).toContain("status=1");
    const n = await run(
      "node",
      `import net from "node:net";
const s = net.connect("/run/isol8-channel/channel.sock");
s.on("connect", () => { console.log("connected"); s.destroy(); });
s.on("error", (e) => console.log(e.code));`,
    );
    expect(n.stdout).toBe("EACCES\n");
  }, 60_000);

  test("no descriptor a program starts with is a socket (python, node, bash: the zygote, standby and plain paths)", async () => {
    const py = await run("python", `import os\n${PY_FD_KINDS}`);
    const node = await run("node", `import fs from "node:fs";\nconsole.log(fs.readdirSync("/proc/self/fd").map((f) => { try { return fs.readlinkSync("/proc/self/fd/" + f); } catch { return "gone"; } }).filter((l) => l.startsWith("socket:")).length);`);
    const sh = await run("bash", BASH_SOCKETS);
    expect(py.stdout).not.toContain("socket");
    expect(py.stdout).toContain("pipe");
    expect(node.stdout).toBe("0\n");
    expect(sh.stdout).toBe("0\n");
  }, 60_000);

  test("still works: the same listings show a socket the program opened", async () => {
    const py = await run("python", `import os, socket\na, b = socket.socketpair()\n${PY_FD_KINDS}`);
    expect(py.stdout).toContain("'socket'");
    // bash started with two sockets open, running the same listing.
    const sh = await run(
      "python",
      `import os, socket\na, b = socket.socketpair()\nos.set_inheritable(a.fileno(), True)\nos.set_inheritable(b.fileno(), True)\nos.execvp("bash", ["bash", "-c", ${JSON.stringify(BASH_SOCKETS)}])`,
    );
    expect(sh.stdout).toBe("2\n");
  }, 60_000);

  test("the supervisor's descriptors 0 and 1 (the channel) cannot be opened through /proc, nor listed or read under runc", async () => {
    const r = await run(
      "python",
      `${PY_REACH}
def write_open(path):
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
found = [p for p in os.listdir("/proc") if p.isdigit() and open(f"/proc/{p}/comm").read().strip() == "isol8-superviso"]
print(len(found) > 0)
for p in found:
    print(reach("list", f"/proc/{p}/fd"), reach("readlink", f"/proc/{p}/fd/0"), write_open(f"/proc/{p}/fd/0"), write_open(f"/proc/{p}/fd/1"))`,
    );
    expect(r.stderr).toBe("");
    const [any, ...rows] = r.stdout.trim().split("\n");
    expect(any).toBe("True");
    // gVisor's /proc lets any process list another's descriptors and read their links (socket:[N]);
    // a socket cannot be opened through /proc (ENXIO) there as under Linux.
    for (const row of rows) expect(row).toBe(gvisor ? "ok ok ENXIO ENXIO" : "EACCES EACCES EACCES EACCES");
  }, 60_000);

  test("still works: the program lists and reads its own /proc descriptors", async () => {
    const r = await run("python", `${PY_REACH}\nprint(reach("list", f"/proc/{os.getpid()}/fd"), reach("readlink", f"/proc/{os.getpid()}/fd/1"))`);
    expect(r.stdout).toBe("ok ok\n");
  }, 60_000);

  test("the channel's mount is read-only, and its host directory is gone once the supervisor has connected", async () => {
    const r = await run("bash", "grep ' /run/isol8-channel ' /proc/self/mountinfo | cut -d' ' -f6");
    expect(r.stdout.trim().split(",")).toContain("ro");
    // The engine's containers are all started: no channel directory is left on the host.
    const channelDirs = tree(main.runDir).filter((path) => path.includes("channels/"));
    expect(channelDirs).toEqual([]);
  }, 60_000);
});

// Under gVisor there is no direct channel (engine.ts says why): see the last test.
describe.skipIf(gvisor)("A17 the direct channel: still works, and the attach stream where it cannot serve", () => {
  test("executions of every runtime travel over the direct channel", async () => {
    const { engine, logged } = engineIn();
    for (const [runtime, code, out] of [
      ["python", "print(6*7)", "42\n"],
      ["node", "console.log(6*7)", "42\n"],
      ["bash", "echo 42", "42\n"],
    ] as const) {
      const r = await run(runtime, code, engine);
      expect(r.stdout).toBe(out);
    }
    expect(transports(logged).length).toBeGreaterThanOrEqual(3);
    expect(new Set(transports(logged))).toEqual(new Set(["direct"]));
  }, 90_000);

  test("security.directChannel false: the attach stream serves, and no channel is mounted", async () => {
    const { engine, logged, runDir } = engineIn({ config: { security: { directChannel: false } } });
    const r = await run("bash", "grep -c ' /run/isol8-channel ' /proc/self/mountinfo; echo done", engine);
    expect(r.stdout).toBe("0\ndone\n");
    expect(new Set(transports(logged))).toEqual(new Set(["attach"]));
    expect(tree(runDir).filter((path) => path.includes("channels"))).toEqual([]);
  }, 60_000);

  test("a supervisor that cannot connect says why and is served over the attach stream", async () => {
    const real = createDockerClient();
    let runDir = "";
    // Docker starts the container after its channel's directory is gone (as where Docker does not see the engine's files).
    const docker: DockerClient = Object.assign(Object.create(real) as DockerClient, {
      start: async (id: string) => {
        for (const path of tree(runDir).filter((p) => /channels\/[^/]+$/.test(p))) rmSync(join(runDir, path), { recursive: true, force: true });
        await real.start(id);
      },
    });
    const made = engineIn({ docker, pool: false });
    runDir = made.runDir;
    const r = await run("python", "print('over attach')", made.engine);
    expect(r.stdout).toBe("over attach\n");
    expect(transports(made.logged)).toEqual(["attach"]);
    expect(made.logged.join("\n")).toMatch(/no direct channel \(\/run\/isol8-channel\/channel\.sock: No such file or directory\): using the attach stream/);
  }, 60_000);
});

describe("A17 a run directory someone else could write is never used", () => {
  // Another user who made the run directory first (a /tmp/isol8 of theirs) could swap in a
  // socket of their own for the supervisor, or the filtered network's proxy, to connect to.
  const spoiled: [string, (dir: string) => void, RegExp][] = [
    ["another user's", (dir) => chownSync(dir, 4242, 4242), /belongs to uid 4242, not to this user/],
    ["writable by everyone", (dir) => chmodSync(dir, 0o777), /is writable by its group and others \(mode 777\)/],
  ];
  test.each(spoiled)("%s: containers use the attach stream and say why; a filtered execution is refused with the reason", async (_, spoil, reason) => {
    const made = engineIn();
    spoil(made.runDir);
    const r = await run("python", "print('still runs')", made.engine);
    expect(r.stdout).toBe("still runs\n");
    expect(transports(made.logged)).toEqual(["attach"]);
    // (Under gVisor the engine does not look for a direct channel at all.)
    if (!gvisor) expect(made.logged.join("\n")).toMatch(reason);
    const refused = await made.engine.execute({ runtime: "python", network: "filtered", code: "print(1)" }).then(
      () => null,
      (error: Error) => error,
    );
    expect(refused?.message).toMatch(reason);
    expect(refused?.message).toStartWith(`Cannot use the run directory "${made.runDir}" for the filtered network's sockets`);
    // Nothing of the engine's was made in it.
    expect(tree(made.runDir)).toEqual([]);
  }, 60_000);
});

test.if(gvisor)("under gVisor the attach stream serves: no channel is mounted and the run directory stays empty", async () => {
  const { engine, logged, runDir } = engineIn();
  const r = await run("python", "print(open('/proc/self/mountinfo').read().count(' /run/isol8-channel '))", engine);
  expect(r.stdout).toBe("0\n");
  expect(new Set(transports(logged))).toEqual(new Set(["attach"]));
  expect(tree(runDir).filter((path) => path.includes("channels/"))).toEqual([]);
}, 60_000);
