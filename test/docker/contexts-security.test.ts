import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { EngineContext } from "../../src/engine/contexts/engine-context";
import { createDockerClient } from "../../src/engine/docker";
import { SessionLostError } from "../../src/errors";
import { TEST_ISOLATION, testEngine } from "../helpers";

// The context threat model (docs/SECURITY.md, "Contexts"): the driver's channel is the user's
// to break, but breaking it only loses that context; a context cannot reach another context,
// the session's executions or the supervisor; lost contexts say why and come back with restart.
let engine: DockerIsol8;
/**
 * Under gVisor its procfs lets any uid of the container read another process's `environ`,
 * `status` and fd list (signals, `/proc/<pid>/mem` and ptrace stay refused), and a memory or
 * pids limit stops the session's whole container (docs/SECURITY.md, "gVisor").
 */
const gvisor = TEST_ISOLATION === "gvisor";

beforeAll(async () => {
  engine = testEngine({ mode: "persistent", config: { defaults: { memoryLimit: "256m", pidsLimit: 128 } } });
  await engine.start();
  // builds the image on a first run
  await (await engine.createContext()).close();
}, 600_000);

afterAll(async () => {
  await engine?.stop();
});

/**
 * Under gVisor a limit stops the session's container with its kernel: the cell fails with
 * the sandbox's error, the session's next call says it was lost (SessionLostError), and the
 * one after runs in a new container.
 */
async function expectSessionLost(cell: Promise<unknown>): Promise<void> {
  await expect(cell).rejects.toThrow(/stopped|memory limit|sandbox/i);
  await expect(engine.execute({ code: "print(1)" })).rejects.toBeInstanceOf(SessionLostError);
  expect((await engine.execute({ code: "print('session ok')" })).stdout).toBe("session ok\n");
}

/** uid → command lines of the container's processes, as seen from a session execution. */
async function processesByUid(): Promise<Record<string, string[]>> {
  const r = await engine.execute({
    code: [
      "import os, json",
      "out = {}",
      "for p in os.listdir('/proc'):",
      "    if not p.isdigit(): continue",
      "    try:",
      "        uid = [l.split()[1] for l in open(f'/proc/{p}/status') if l.startswith('Uid:')][0]",
      "        cmd = open(f'/proc/{p}/cmdline', 'rb').read().replace(b'\\0', b' ').decode()[:60]",
      "    except OSError: continue",
      "    out.setdefault(uid, []).append(cmd)",
      "print(json.dumps(out))",
    ].join("\n"),
  });
  return JSON.parse(r.stdout) as Record<string, string[]>;
}

async function pidAndUid(ctx: EngineContext): Promise<{ pid: number; uid: number }> {
  const r = await ctx.run("import os\nprint(os.getpid(), os.getuid())");
  const [pid, uid] = r.stdout.trim().split(" ").map(Number);
  return { pid: pid!, uid: uid! };
}

describe("a context's own channel", () => {
  test("garbage written to the reply fd loses only that context (protocol); restart brings it back", async () => {
    const ctx = await engine.createContext();
    const bystander = await engine.createContext();
    await bystander.run("mine = 7");
    const r = await ctx.run("import os\nos.write(4, b'\\xff\\xff\\xff\\xff\\xff garbage')\nwhile True: pass", { timeoutMs: 5_000 });
    expect(r.status).toBe("lost");
    expect(r.contextLost).toEqual({ reason: "protocol" });
    await expect(ctx.run("1")).rejects.toThrow(/was lost \(protocol\)/);
    // still works: the other context, executions, and this one after restart
    expect((await bystander.run("mine")).results[0]!["text/plain"]).toBe("7");
    expect((await engine.execute({ code: "print('exec ok')" })).stdout).toBe("exec ok\n");
    await ctx.restart();
    expect((await ctx.run("40 + 2")).results[0]!["text/plain"]).toBe("42");
    await ctx.close();
    await bystander.close();
  });

  test.each([
    ["a frame of an unknown type", "os.write(4, b'Z' + (3).to_bytes(4, 'big') + b'abc')"],
    ["a frame over the size cap", "os.write(4, b'r' + (0xfffffff0).to_bytes(4, 'big'))"],
    ["a second ready frame", "os.write(4, b'y' + (0).to_bytes(4, 'big'))"],
    ["a result that is not JSON", "os.write(4, b'r' + (5).to_bytes(4, 'big') + b'nope!')"],
    ["a result without text/plain", "import json; p = json.dumps({'data': {'text/html': 'x'}}).encode(); os.write(4, b'r' + len(p).to_bytes(4, 'big') + p)"],
    ["closing the reply fd", "os.close(4)"],
  ])("%s loses the context with reason protocol", async (_name, code) => {
    const ctx = await engine.createContext();
    const r = await ctx.run(`import os\n${code}\nimport time\ntime.sleep(30)`, { timeoutMs: 10_000 });
    expect(r.status).toBe("lost");
    expect(r.contextLost).toEqual({ reason: "protocol" });
    // before the cell's timeout: the broken frame ends it, not the clock
    expect(r.interrupted).toBe(false);
    expect(r.durationMs).toBeLessThan(10_000);
    await ctx.close();
  }, 30_000);

  test("a well-formed forged result is just a result of that cell (still works twin)", async () => {
    const ctx = await engine.createContext();
    const r = await ctx.run("import os, json\np = json.dumps({'data': {'text/plain': 'forged'}}).encode()\nos.write(4, b'r' + len(p).to_bytes(4, 'big') + p)\n'real'");
    expect(r.status).toBe("ok");
    expect(r.results.map((b) => b["text/plain"])).toEqual(["forged", "'real'"]);
    expect((await ctx.run("1 + 1")).results[0]!["text/plain"]).toBe("2");
    await ctx.close();
  });

  test("writing to the cell fd fails (it is the read end); the context keeps working", async () => {
    const ctx = await engine.createContext();
    const r = await ctx.run("import os\nos.write(3, b'c\\0\\0\\0\\1x')");
    expect(r.status).toBe("error");
    expect(r.error!.name).toBe("OSError");
    expect((await ctx.run("2 * 21")).results[0]!["text/plain"]).toBe("42");
    await ctx.close();
  });

  test("a cell that closes its stdout and stderr: print still works, subprocess output is lost", async () => {
    const ctx = await engine.createContext();
    const r = await ctx.run("import os\nos.close(1)\nos.close(2)");
    expect(r.status).toBe("ok");
    const next = await ctx.run("print('still here')\nimport subprocess\nsubprocess.run(['echo', 'lost'])\n'done'");
    expect(next.stdout).toBe("still here\n");
    expect(next.results[0]!["text/plain"]).toBe("'done'");
    await ctx.close();
  });
});

describe("contexts are separate from each other, from executions and from the supervisor", () => {
  test("each context runs as its own uid, never the session's sandbox uid", async () => {
    const a = await engine.createContext();
    const b = await engine.createContext();
    const ua = await pidAndUid(a);
    const ub = await pidAndUid(b);
    const exec = await engine.execute({ code: "import os; print(os.getuid())" });
    const execUid = Number(exec.stdout.trim());
    expect(new Set([ua.uid, ub.uid, execUid]).size).toBe(3);
    expect(ua.uid).toBeGreaterThan(0);
    await a.close();
    await b.close();
  });

  test("a context cannot signal, or read the memory or environment of, another context", async () => {
    const victim = await engine.createContext();
    const attacker = await engine.createContext();
    await victim.run("treasure = 'gold'");
    const { pid } = await pidAndUid(victim);
    const readable = [`open('/proc/${pid}/environ', 'rb').read()`, `os.listdir('/proc/${pid}/fd')`];
    for (const code of [`os.kill(${pid}, signal.SIGKILL)`, `os.kill(${pid}, signal.SIGSTOP)`, `open('/proc/${pid}/mem', 'rb').read(1)`, ...(gvisor ? [] : readable)]) {
      const r = await attacker.run(`import os, signal\n${code}`);
      expect({ code, status: r.status, error: r.error?.name }).toEqual({ code, status: "error", error: "PermissionError" });
    }
    if (gvisor) {
      // gVisor's procfs: readable by every uid of the container (documented difference).
      for (const code of readable) expect((await attacker.run(`import os\n${code}`)).status).toBe("ok");
    }
    // still works: the attacker can signal and read its own process
    expect((await attacker.run("import os\nlen(open(f'/proc/{os.getpid()}/environ','rb').read()) > 0")).results[0]!["text/plain"]).toBe("True");
    expect((await victim.run("treasure")).results[0]!["text/plain"]).toBe("'gold'");
    await victim.close();
    await attacker.close();
  });

  test("an execution in the session cannot signal a context; a context cannot signal an execution's processes or the supervisor", async () => {
    const ctx = await engine.createContext();
    const { pid } = await pidAndUid(ctx);
    const exec = await engine.execute({ code: `import os, signal\ntry:\n    os.kill(${pid}, signal.SIGKILL)\nexcept PermissionError:\n    print('refused')` });
    expect(exec.stdout).toBe("refused\n");
    const r = await ctx.run("import os, signal\nos.kill(1, signal.SIGKILL)");
    expect(r.error?.name).toBe("PermissionError");
    const supervisor = await ctx.run("import os\nos.listdir('/proc/1/fd')");
    // gVisor lists any process's descriptors (their targets stay closed to other uids).
    if (gvisor) expect(supervisor.status).toBe("ok");
    else expect(supervisor.error?.name).toBe("PermissionError");
    expect((await ctx.run("'alive'")).results[0]!["text/plain"]).toBe("'alive'");
    await ctx.close();
  });

  test("two contexts share /sandbox files, not their state", async () => {
    const a = await engine.createContext();
    const b = await engine.createContext();
    await a.run("open('/sandbox/shared.txt', 'w').write('from a')\nonly_a = 1");
    const r = await b.run("open('/sandbox/shared.txt').read()");
    expect(r.results[0]!["text/plain"]).toBe("'from a'");
    await b.run("open('/sandbox/shared.txt', 'a').write(' and b')");
    expect((await a.run("open('/sandbox/shared.txt').read()")).results[0]!["text/plain"]).toBe("'from a and b'");
    expect((await b.run("only_a")).error?.name).toBe("NameError");
    expect((await engine.execute({ code: "print(open('/sandbox/shared.txt').read())" })).stdout).toBe("from a and b\n");
    await a.close();
    await b.close();
  });
});

describe("processes of a context", () => {
  test("a background process outlives its cell, belongs to the context and dies with it", async () => {
    const ctx = await engine.createContext();
    const { uid } = await pidAndUid(ctx);
    await ctx.run("import subprocess\nbg = subprocess.Popen(['sleep', '1000'], start_new_session=True)");
    expect((await ctx.run("bg.poll() is None")).results[0]!["text/plain"]).toBe("True");
    expect((await processesByUid())[String(uid)]?.some((cmd) => cmd.startsWith("sleep 1000"))).toBe(true);
    await ctx.close();
    expect((await processesByUid())[String(uid)]).toBeUndefined();
  });

  test("an execution in the session leaves a context's processes alone (its kill loop is per uid)", async () => {
    const ctx = await engine.createContext();
    await ctx.run("counter = 5");
    await engine.execute({ code: "import subprocess; subprocess.Popen(['sleep', '100'])" });
    expect((await ctx.run("counter")).results[0]!["text/plain"]).toBe("5");
    await ctx.close();
  });

  test("a memory bomb gives contextLost memory-limit; the session works again after restart", async () => {
    const ctx = await engine.createContext();
    await ctx.run("x = 41");
    const bomb = ctx.run("hog = []\nwhile True:\n    hog.append(bytearray(16 * 1024 * 1024))", { timeoutMs: 30_000 });
    if (gvisor) return expectSessionLost(bomb);
    const r = await bomb;
    expect({ status: r.status, lost: r.contextLost, stderr: r.stderr.slice(-300) }).toMatchObject({ status: "lost", lost: { reason: "memory-limit" } });
    expect((await engine.listContexts()).find((c) => c.id === ctx.id)).toMatchObject({ state: "lost", lostReason: "memory-limit" });
    await ctx.restart();
    expect((await ctx.run("x = 1\nx + 1")).results[0]!["text/plain"]).toBe("2");
    expect((await engine.execute({ code: "print('session ok')" })).stdout).toBe("session ok\n");
    await ctx.close();
  });

  test("a fork bomb gives contextLost pids-limit (gVisor: refused at the context uid's process limit) and leaves no process of the context", async () => {
    const ctx = await engine.createContext();
    const { uid } = await pidAndUid(ctx);
    const bomb = ctx.run(
      "import subprocess\nps = []\nfor i in range(400):\n    try:\n        ps.append(subprocess.Popen(['sleep', '1000']))\n    except OSError:\n        break\nlen(ps)",
      { timeoutMs: 30_000 },
    );
    if (gvisor) {
      // gVisor's kernel refuses the fork at the context uid's RLIMIT_NPROC (the pidsLimit): the
      // session's container lives on, and no limit event marks the context lost; closing it
      // takes every process of its uid along.
      const r = await bomb;
      expect(r.status).toBe("ok");
      const started = Number(r.results[0]!["text/plain"]);
      expect(started).toBeGreaterThan(8);
      expect(started).toBeLessThan(400);
      await ctx.close();
      expect((await processesByUid())[String(uid)]).toBeUndefined();
      expect((await engine.execute({ code: "print('session ok')" })).stdout).toBe("session ok\n");
      return;
    }
    const r = await bomb;
    expect(r.status).toBe("lost");
    expect(r.contextLost).toEqual({ reason: "pids-limit" });
    expect((await processesByUid())[String(uid)]).toBeUndefined();
    await ctx.restart();
    expect((await ctx.run("'back'")).results[0]!["text/plain"]).toBe("'back'");
    await ctx.close();
  });

  test("os._exit in a cell gives contextLost exited", async () => {
    const ctx = await engine.createContext();
    const r = await ctx.run("import os\nos._exit(3)");
    expect(r.contextLost).toEqual({ reason: "exited" });
    await ctx.close();
  });

  test("a cell that ignores the interrupt is killed after the grace: contextLost timeout", async () => {
    const ctx = await engine.createContext();
    const r = await ctx.run("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass", { timeoutMs: 1_000 });
    expect(r.status).toBe("lost");
    expect(r.contextLost).toEqual({ reason: "timeout" });
    await expect(ctx.run("1")).rejects.toThrow(/was lost \(timeout\)/);
    await ctx.close();
  });

  test("cancel(executionId) interrupts exactly that cell; the state is kept", async () => {
    const ctx = await engine.createContext();
    await ctx.run("y = 'kept'");
    let id = "";
    const running = ctx.run("import time\nprint('started', flush=True)\ntime.sleep(60)", { onStart: (executionId) => (id = executionId) });
    while (!id) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await engine.cancel("no-such-id")).toBe(false);
    expect(await engine.cancel(id)).toBe(true);
    const r = await running;
    expect(r.executionId).toBe(id);
    expect(r.interrupted).toBe(true);
    expect(r.error?.name).toBe("KeyboardInterrupt");
    expect((await ctx.run("y")).results[0]!["text/plain"]).toBe("'kept'");
    await ctx.close();
  });
});

describe("the session's end", () => {
  test("stopping the engine removes the container: no sandbox-uid process is left anywhere", async () => {
    const own = testEngine({ mode: "persistent" });
    await own.start();
    const ctx = await own.createContext();
    await ctx.run("import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True)");
    const id = own.sessionContainerId!;
    await own.stop();
    expect(await createDockerClient().inspectContainer(id)).toBeNull();
  });
});
