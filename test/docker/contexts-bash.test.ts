import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { EngineContext } from "../../src/engine/contexts/engine-context";
import { testEngine } from "../helpers";

// bash contexts: a persistent shell (cwd, env, functions, variables), in a python session.
let engine: DockerIsol8;
let ctx: EngineContext;

beforeAll(async () => {
  engine = testEngine({ mode: "persistent" });
  await engine.start();
  await engine.createContext({ runtime: "python" }); // binds the session to python: bash still fits
  ctx = await engine.createContext({ runtime: "bash" });
}, 600_000);

afterAll(async () => {
  await engine?.stop();
});

describe("bash context", () => {
  test("cwd, env, functions and variables persist across 50 cells", async () => {
    await ctx.run("mkdir -p /sandbox/work && cd /sandbox/work\nexport GREETING=hi\ncount=0\ninc() { count=$((count + 1)); }");
    for (let i = 0; i < 50; i++) expect((await ctx.run("inc")).status).toBe("ok");
    const r = await ctx.run('echo "$PWD $GREETING $count"');
    expect(r.stdout).toBe("/sandbox/work hi 50\n");
  }, 60_000);

  test("code without a trailing newline, quotes and multi-line input", async () => {
    const r = await ctx.run("for i in 1 2; do\n  echo \"line $i\"\ndone\nprintf '%s' \"a'b\"");
    expect(r.stdout).toBe("line 1\nline 2\na'b");
  });

  test("a failing last command is a structured error; the state is kept", async () => {
    const r = await ctx.run("false");
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ name: "ExitStatus", value: "1" });
    expect((await ctx.run("echo $count")).stdout).toBe("50\n");
  });

  test("read gets end-of-file at once", async () => {
    const r = await ctx.run("read line; echo \"status $?\"", { timeoutMs: 5_000 });
    expect(r.stdout).toBe("status 1\n");
  });

  test("a foreground command at its timeout is interrupted (SIGINT) and the shell keeps its state", async () => {
    const r = await ctx.run("sleep 100", { timeoutMs: 1_000 });
    expect(r.interrupted).toBe(true);
    expect(r.contextLost).toBeUndefined();
    expect((await ctx.run('echo "$count $PWD"')).stdout).toBe("50 /sandbox/work\n");
  });

  test("a busy loop in the cell is interrupted too", async () => {
    const r = await ctx.run("while :; do :; done", { timeoutMs: 1_000 });
    expect(r.interrupted).toBe(true);
    expect((await ctx.run("echo ok")).stdout).toBe("ok\n");
  });

  test("exit ends the shell: contextLost exited, restart gives a fresh one", async () => {
    const r = await ctx.run("exit 3");
    expect(r.contextLost).toEqual({ reason: "exited" });
    await ctx.restart();
    expect((await ctx.run('echo "[$count]"')).stdout).toBe("[]\n");
  });
});
