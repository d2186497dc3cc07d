// Real-Docker proof of the standby programs of node, bun and deno (docs/SECURITY.md I16): a pooled
// container's supervisor starts the next program ahead, as the sandbox user with the posture of
// any program, after each clean; it waits for its execution's argv, env and working directory.
// It must run programs as `node <file>` / `bun run <file>` / `deno run <file>` would, never share
// its container with user code while it waits (every other program start discards it first),
// start only after everything of the previous execution is gone, and give way whenever the
// runtime would read something as it starts that it started without (NODE_OPTIONS, LD_PRELOAD,
// bunfig.toml, .env, deno.json, DENO_V8_FLAGS), or (deno) the program file is not the one it
// started on.
// Every refusal has a "still works" twin where the standby program does run the execution.
import { afterAll, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { ExecutionRequest } from "../../src/protocol/execution";
import { killStandbyPrograms } from "../chaos/faults";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";

const engines: DockerIsol8[] = [];
function engine(options: Parameters<typeof testEngine>[0] = {}): DockerIsol8 {
  const made = testEngine(options);
  engines.push(made);
  return made;
}
const pooled = engine({ config: { poolSize: { clean: 1, dirty: 1 }, security: { standbyPrograms: true } } });
const off = engine({ config: { poolSize: { clean: 1, dirty: 1 }, security: { standbyPrograms: false } } });

afterAll(async () => {
  for (const e of engines) await e.stop();
  for (const e of engines) expect(await ownedContainers(e)).toEqual([]);
});

type Js = "node" | "bun" | "deno";
const RUNTIMES: Js[] = ["node", "bun", "deno"];

/**
 * Waits long enough for the pooled container's standby program to be up (it starts after the
 * previous execution's clean), so an execution finds it waiting rather than starting.
 */
const settle = () => Bun.sleep(400);

const run = (on: DockerIsol8, runtime: Js, code: string, extra: Partial<ExecutionRequest> = {}) =>
  on.execute({ runtime, timeoutMs: 20_000, code, ...extra });

/** ESM (node's .mjs, bun's .ts, deno's .mts) that says whether it runs in a standby program and which processes its uid has. */
const PROBE = String.raw`
import { readFileSync, readdirSync } from "node:fs";
const standby = readFileSync("/proc/self/cmdline", "utf8").includes("/usr/local/lib/isol8/standby/");
const uidOf = (pid) => { try { return Number(/^Uid:\s+(\d+)/m.exec(readFileSync("/proc/" + pid + "/status", "utf8"))[1]); } catch { return -1; } };
const mine = readdirSync("/proc").filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid && uidOf(n) === process.getuid());
`;

describe("standby programs: who runs the execution", () => {
  test.each(RUNTIMES)("%s: a pooled container hands each execution to its standby program; with standbyPrograms false each starts its own", async (runtime) => {
    for (let i = 0; i < 3; i++) {
      await settle();
      const result = await run(pooled, runtime, `${PROBE}\nconsole.log(JSON.stringify({ standby, mine }))`);
      expect(JSON.parse(result.stdout)).toEqual({ standby: true, mine: [] });
    }
    await settle();
    const plain = await run(off, runtime, `${PROBE}\nconsole.log(JSON.stringify({ standby, mine }))`);
    expect(JSON.parse(plain.stdout)).toEqual({ standby: false, mine: [] });
  });
});

describe("standby programs: the same program as node <file>, bun run <file> and deno run <file>", () => {
  const SEMANTICS = String.raw`
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
const stdin = readFileSync(0, "utf8");
const main = typeof Bun === "undefined" ? import.meta.main : Bun.main === import.meta.path && import.meta.main;
// Pipes beyond stdio (the standby program's spec pipe, once read, must be closed like any other).
const pipes = readdirSync("/proc/self/fd").filter((fd) => Number(fd) > 2).map((fd) => { try { return readlinkSync("/proc/self/fd/" + fd); } catch { return ""; } }).filter((l) => l.startsWith("pipe:")).length;
console.log(JSON.stringify({
  argv: process.argv.slice(1), main, url: import.meta.url, execArgv: process.execArgv, cwd: process.cwd(),
  stdin, foo: process.env.FOO, tokenLength: (process.env.TOKEN ?? "").length,
  // node's comes from NODE_OPTIONS, deno's from DENO_V8_FLAGS (the container's memory limit); JavaScriptCore sizes bun's as it starts.
  heap: typeof Bun === "undefined" ? (await import("node:v8")).getHeapStatistics().heap_size_limit : 0,
  pipes, await: await Promise.resolve("top-level"),
}));
process.exitCode = 3;
`;
  test.each(RUNTIMES)("%s: argv, main module, stdin, env, secrets, node's and deno's heap limit, working directory, exit code; as many pipes beyond stdio as without (the spec pipe is closed)", async (runtime) => {
    // Deno starts on its program file without arguments: it is handed only executions without any (below).
    const args = runtime === "deno" ? [] : ["a b", "-c"];
    const request = { args, stdin: "in\n", env: { FOO: "bar" }, secrets: { TOKEN: "s3cr3t-token" }, memoryLimit: "256m" };
    await settle();
    const standby = await run(pooled, runtime, SEMANTICS, request);
    await settle();
    const plain = await run(off, runtime, SEMANTICS, request);
    expect(standby.exitCode).toBe(3);
    expect(standby.stderr).toBe("");
    const seen = JSON.parse(standby.stdout);
    expect(seen).toEqual(JSON.parse(plain.stdout));
    expect(seen).toMatchObject({ argv: [expect.stringMatching(/^\/sandbox\/main\./), ...args], main: true, stdin: "in\n", foo: "bar", tokenLength: 12, cwd: "/sandbox", await: "top-level" });
  });

  test("node, CommonJS: require.main, __filename and module.parent are the program's", async () => {
    const code = "console.log(JSON.stringify({ main: require.main === module, file: __filename, parent: module.parent ?? null, cached: Object.keys(require.cache) }))";
    await settle();
    const standby = await run(pooled, "node", code, { fileExtension: ".cjs" });
    await settle();
    const plain = await run(off, "node", code, { fileExtension: ".cjs" });
    expect(JSON.parse(standby.stdout)).toEqual({ main: true, file: "/sandbox/main.cjs", parent: null, cached: ["/sandbox/main.cjs"] });
    expect(standby.stdout).toBe(plain.stdout);
  });

  test.each(RUNTIMES)("%s: an uncaught error and process.exit end the execution as they would", async (runtime) => {
    for (const [code, exitCode, stderr] of [
      ["throw new Error('boom-' + 'standby')", 1, "boom-standby"],
      ["process.stdout.write('x'); process.exit(7)", 7, ""],
      ["await new Promise((r) => setTimeout(r, 50)); Promise.reject(new Error('late-' + 'reject'))", 1, "late-reject"],
    ] as const) {
      await settle();
      const result = await run(pooled, runtime, code);
      expect(result.exitCode).toBe(exitCode);
      expect(result.stderr).toContain(stderr);
      expect(result.stderr).not.toContain("/usr/local/lib/isol8");
    }
  });

  // node's standby program creates process.stdout and process.stderr before its spec arrives
  // (over the execution's own pipes): they must be the streams node would create, and hold
  // nothing open that a program without output would wait on.
  test.each(RUNTIMES)("%s: stdout and stderr are the pipes the runtime would make: the same kind, blocking writes, order, a 256 KiB write whole; a program without output ends", async (runtime) => {
    const OUTPUT = String.raw`
const kind = { isTTY: process.stdout.isTTY ?? null, errTTY: process.stderr.isTTY ?? null, fd: process.stdout.fd ?? null, writableLength: process.stdout.writableLength };
process.stdout.write("a");
console.log("b");
process.stderr.write("e1 ");
console.error("e2");
const big = "x".repeat(1 << 18);
const flushed = process.stdout.write(big);
process.stdout.write("\n" + JSON.stringify({ ...kind, flushed }) + "\n");
`;
    await settle();
    const standby = await run(pooled, runtime, OUTPUT);
    await settle();
    const plain = await run(off, runtime, OUTPUT);
    // The 256 KiB write arrives whole, between "b" and the last line.
    expect(standby.stdout.length).toBe(2 + 1 + (1 << 18) + 1 + standby.stdout.split("\n").at(-2)!.length + 1);
    // What bun's write returns depends on whether the pipe drained during it: a plain `bun run`
    // gives true or false from one run to the next (measured: true in 1 of 20, over either
    // channel), so for bun it is not compared.
    const same = (stdout: string) => {
      const out = stdout.replace(/x+/, "X");
      return runtime === "bun" ? out.replace(/"flushed":(true|false)/, '"flushed":"either"') : out;
    };
    expect({ out: same(standby.stdout), err: standby.stderr, exit: standby.exitCode }).toEqual({ out: same(plain.stdout), err: plain.stderr, exit: plain.exitCode });
    expect(standby.stdout.startsWith("ab\n")).toBe(true);
    expect(standby.stderr).toBe("e1 e2\n");
    await settle();
    const silent = await run(pooled, runtime, "const n = 1 + 1;", { timeoutMs: 5_000 });
    expect({ exitCode: silent.exitCode, timedOut: silent.timedOut, stdout: silent.stdout }).toEqual({ exitCode: 0, timedOut: false, stdout: "" });
  });
});

describe("standby programs: nothing of execution N in N+1, never beside user code", () => {
  test.each(RUNTIMES)("%s: a process, files and environment left by N are gone when N+1's standby program runs it", async (runtime) => {
    const leave = String.raw`
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
spawn("sleep", ["600"], { detached: true, stdio: "ignore" }).unref();
writeFileSync("/tmp/left-by-n", "x"); writeFileSync("/dev/shm/left-by-n", "x"); writeFileSync("/sandbox/left-by-n", "x");
process.env.LEFT_BY_N = "1";
globalThis.leftByN = 1;
console.log("left");
`;
    expect((await run(pooled, runtime, leave)).stdout).toBe("left\n");
    await settle();
    const next = await run(pooled, runtime, `${PROBE}\nimport { existsSync } from "node:fs";\nconsole.log(JSON.stringify({ standby, mine, files: ["/tmp", "/dev/shm", "/sandbox"].map((d) => existsSync(d + "/left-by-n")), env: process.env.LEFT_BY_N ?? null, global: globalThis.leftByN ?? null }))`);
    expect(JSON.parse(next.stdout)).toEqual({ standby: true, mine: [], files: [false, false, false], env: null, global: null });
  });

  test("node: an execution the standby program cannot take (its own NODE_OPTIONS) discards it first: its program is alone with its uid and gets the option", async () => {
    await settle();
    const own = await run(pooled, "node", `${PROBE}\nconsole.log(JSON.stringify({ standby, mine, gc: typeof gc }))`, { env: { NODE_OPTIONS: "--expose-gc" } });
    expect(JSON.parse(own.stdout)).toEqual({ standby: false, mine: [], gc: "function" });
    // Still works: without it the standby program takes the execution (and node has no gc()).
    await settle();
    const taken = await run(pooled, "node", `${PROBE}\nconsole.log(JSON.stringify({ standby, mine, gc: typeof gc }))`);
    expect(JSON.parse(taken.stdout)).toEqual({ standby: true, mine: [], gc: "undefined" });
  });

  test.each([
    ["LD_PRELOAD (the dynamic loader)", { LD_PRELOAD: "/nonexistent.so" }],
    ["UV_THREADPOOL_SIZE (libuv)", { UV_THREADPOOL_SIZE: "2" }],
    ["LANG (the locale)", { LANG: "C" }],
  ])("node: %s in the request's env: node starts with it", async (_name, env) => {
    await settle();
    const result = await run(pooled, "node", `${PROBE}\nconsole.log(JSON.stringify({ standby, mine }))`, { env });
    expect(JSON.parse(result.stdout)).toEqual({ standby: false, mine: [] });
  });

  test("bun: .env and bunfig.toml among the request's files are read as bun starts (the standby program gives way); without them it runs the execution", async () => {
    const files = { ".env": "FROM_DOTENV=yes\n", "bunfig.toml": 'preload = ["./pre.ts"]\n', "pre.ts": "globalThis.preloaded = true;\n" };
    const code = `${PROBE}\nconsole.log(JSON.stringify({ standby, mine, dotenv: process.env.FROM_DOTENV ?? null, preloaded: globalThis.preloaded ?? null }))`;
    await settle();
    const withFiles = await run(pooled, "bun", code, { files });
    expect(JSON.parse(withFiles.stdout)).toEqual({ standby: false, mine: [], dotenv: "yes", preloaded: true });
    await settle();
    const plain = await run(off, "bun", code, { files });
    expect(JSON.parse(plain.stdout)).toEqual({ standby: false, mine: [], dotenv: "yes", preloaded: true });
    await settle();
    const without = await run(pooled, "bun", code, { files: { "pre.ts": "globalThis.preloaded = true;\n" } });
    expect(JSON.parse(without.stdout)).toEqual({ standby: true, mine: [], dotenv: null, preloaded: null });
  });

  test("bun, a session: a .env written with putFile before the first execution is read (the waiting program was discarded)", async () => {
    const session = engine({ mode: "persistent", runtime: "bun", config: { security: { standbyPrograms: true } } });
    await session.putFile(".env", "FROM_DOTENV=session\n");
    const result = await session.execute({ runtime: "bun", code: `${PROBE}\nconsole.log(JSON.stringify({ standby, dotenv: process.env.FROM_DOTENV ?? null }))` });
    expect(JSON.parse(result.stdout)).toEqual({ standby: false, dotenv: "session" });
  });

  test("deno: an execution with arguments gets its own program (deno fixes Deno.args and process.argv as it starts); without, the standby program runs it as deno run would", async () => {
    const code = `${PROBE}\nconsole.log(JSON.stringify({ standby, mine, args: Deno.args, argv: process.argv.slice(1), main: Deno.mainModule, same: Deno.args === Deno.args }))`;
    await settle();
    const withArgs = await run(pooled, "deno", code, { args: ["x", "--y"] });
    expect(JSON.parse(withArgs.stdout)).toEqual({ standby: false, mine: [], args: ["x", "--y"], argv: ["/sandbox/main.mts", "x", "--y"], main: "file:///sandbox/main.mts", same: true });
    await settle();
    const standby = await run(pooled, "deno", code);
    await settle();
    const plain = await run(off, "deno", code);
    expect(JSON.parse(standby.stdout)).toEqual({ standby: true, mine: [], args: [], argv: ["/sandbox/main.mts"], main: "file:///sandbox/main.mts", same: true });
    expect({ ...JSON.parse(plain.stdout), standby: true }).toEqual(JSON.parse(standby.stdout));
  });

  test("deno: a program file of its own name (programFile) gets its own program (deno started on main.mts); the default name goes to the standby program", async () => {
    const code = `${PROBE}\nconsole.log(JSON.stringify({ standby, mine, main: Deno.mainModule }))`;
    await settle();
    const named = await run(pooled, "deno", code, { programFile: "tool.mts" });
    expect(JSON.parse(named.stdout)).toEqual({ standby: false, mine: [], main: "file:///sandbox/tool.mts" });
    await settle();
    const plain = await run(pooled, "deno", code);
    expect(JSON.parse(plain.stdout)).toEqual({ standby: true, mine: [], main: "file:///sandbox/main.mts" });
  });

  test("deno: a deno.json among the request's files is read as deno starts (the standby program gives way); without it it runs the execution", async () => {
    const files = { "deno.json": JSON.stringify({ imports: { "#answer": "./answer.ts" } }), "answer.ts": "export default 42;\n" };
    const code = `${PROBE}\nconst answer = await import("#answer").then((m) => m.default, () => null);\nconsole.log(JSON.stringify({ standby, mine, answer }))`;
    await settle();
    const withConfig = await run(pooled, "deno", code, { files });
    expect(JSON.parse(withConfig.stdout)).toEqual({ standby: false, mine: [], answer: 42 });
    await settle();
    const without = await run(pooled, "deno", code, { files: { "answer.ts": "export default 42;\n" } });
    expect(JSON.parse(without.stdout)).toEqual({ standby: true, mine: [], answer: null });
  });

  test.each([
    ["DENO_V8_FLAGS (its V8 flags)", { DENO_V8_FLAGS: "--expose-gc" }, "function"],
    ["NO_COLOR (set as it starts)", { NO_COLOR: "1" }, "undefined"],
  ])("deno: %s in the request's env: deno starts with it", async (_name, env, gc) => {
    await settle();
    const result = await run(pooled, "deno", `${PROBE}\nconsole.log(JSON.stringify({ standby, mine, gc: typeof globalThis.gc }))`, { env });
    expect(JSON.parse(result.stdout)).toEqual({ standby: false, mine: [], gc });
  });

  test.each(RUNTIMES)("%s: the standby scripts are read-only for the program (root-owned, read-only image); /sandbox still takes its files", async (runtime) => {
    const code = String.raw`
import { writeFileSync } from "node:fs";
const tryWrite = (path) => { try { writeFileSync(path, "poison"); return "written"; } catch (e) { return e.code; } };
console.log(JSON.stringify(["/usr/local/lib/isol8/standby/" + (typeof Deno === "undefined" ? "node.cjs" : "deno.mjs"), "/usr/local/lib/isol8/standby/take-spec.cjs", "/sandbox/mine.txt"].map(tryWrite)));
`;
    await settle();
    const result = await run(pooled, runtime, code);
    const [script, shared, own] = JSON.parse(result.stdout);
    expect([script, shared]).toEqual([expect.stringMatching(/^(EROFS|EACCES)$/), expect.stringMatching(/^(EROFS|EACCES)$/)]);
    expect(own).toBe("written");
  });
});

describe("standby programs: when one is gone", () => {
  test.each(RUNTIMES)("%s: standby programs killed from outside while they wait (as the OOM killer could): the execution starts its own program; the next clean starts a new one", async (runtime) => {
    await settle();
    await run(pooled, runtime, "console.log(1)");
    await settle();
    // The test, not user code, kills them: as root in each of the engine's containers.
    for (const id of await ownedContainers(pooled)) {
      // 0: one killed (this container's kind has a standby program); 1: none matched.
      expect([0, 1]).toContain(killStandbyPrograms(id).status ?? -1);
    }
    await Bun.sleep(100); // each runner reports its program's end
    const result = await run(pooled, runtime, `${PROBE}\nconsole.log(JSON.stringify({ standby, mine }))`);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ standby: false, mine: [] });
    await settle();
    const next = await run(pooled, runtime, `${PROBE}\nconsole.log(JSON.stringify({ standby, mine }))`);
    expect(JSON.parse(next.stdout)).toEqual({ standby: true, mine: [] });
  });
});

describe("standby programs: limits hold", () => {
  test.each(RUNTIMES)("%s: the deadline ends an endless standby program; the container's next execution runs in a new one", async (runtime) => {
    await settle();
    const endless = await run(pooled, runtime, "while (true) {}", { timeoutMs: 1500 });
    expect(endless.timedOut).toBe(true);
    await settle();
    const next = await run(pooled, runtime, `${PROBE}\nconsole.log(JSON.stringify({ standby, mine }))`);
    expect(JSON.parse(next.stdout)).toEqual({ standby: true, mine: [] });
  });

  test.each(RUNTIMES)("%s: the output cap cuts a standby program's output", async (runtime) => {
    await settle();
    const result = await run(pooled, runtime, "process.stdout.write('x'.repeat(1 << 20))", { maxOutputSize: "1k" });
    expect(result.stdout.length).toBeLessThanOrEqual(1024);
    expect(result.truncated).toBe(true);
  });
});
