import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { EngineContext } from "../../src/engine/contexts/engine-context";
import { createHash } from "node:crypto";
import { testEngine } from "../helpers";

// Python contexts against real Docker: state across cells, trailing values, structured errors,
// display(), interrupts that keep state, stdin EOF, isolation between two contexts.
let engine: DockerIsol8;
let ctx: EngineContext;

beforeAll(async () => {
  engine = testEngine({ mode: "persistent" });
  await engine.start();
  ctx = await engine.createContext({ runtime: "python" });
}, 600_000);

afterAll(async () => {
  await engine?.stop();
});

describe("python context", () => {
  test("x = 41, then x + 1 gives a text/plain result 42", async () => {
    const first = await ctx.run("x = 41");
    expect(first.status).toBe("ok");
    expect(first.results).toEqual([]);
    const second = await ctx.run("x + 1");
    expect(second.status).toBe("ok");
    expect(second.results).toEqual([{ "text/plain": "42" }]);
  });

  test("variables, imports and functions persist across 50 cells", async () => {
    await ctx.run("import math\ndef inc(v):\n    return v + 1\nn = 0");
    for (let i = 0; i < 50; i++) {
      const r = await ctx.run("n = inc(n)");
      expect(r.status).toBe("ok");
    }
    const r = await ctx.run("n, math.floor(2.5)");
    expect(r.results[0]!["text/plain"]).toBe("(50, 2)");
  });

  test("an error is structured, shows the user's frames only and leaves the state intact", async () => {
    await ctx.run("kept = 'yes'");
    const r = await ctx.run("def boom():\n    raise ValueError('bad value')\nboom()");
    expect(r.status).toBe("error");
    expect(r.error!.name).toBe("ValueError");
    expect(r.error!.value).toBe("bad value");
    expect(r.error!.traceback).toContain("boom()");
    expect(r.error!.traceback).toContain("<cell-");
    expect(r.error!.traceback).not.toContain("_run_cell");
    expect((await ctx.run("kept")).results[0]!["text/plain"]).toBe("'yes'");
  });

  test("several display() calls come back in order, print output streams", async () => {
    const seen: string[] = [];
    const r = await ctx.run("print('a')\ndisplay(1)\nprint('b')\ndisplay('two')\n3", {
      onStdout: (text) => seen.push(`out:${text}`),
      onResult: (bundle) => seen.push(`result:${bundle["text/plain"]}`),
    });
    expect(r.results.map((b) => b["text/plain"])).toEqual(["1", "'two'", "3"]);
    expect(r.stdout).toBe("a\nb\n");
    expect(seen).toEqual(["out:a\n", "result:1", "out:b\n", "result:'two'", "result:3"]);
  });

  test("objects' _repr_*_ methods are honoured", async () => {
    const r = await ctx.run("class H:\n    def _repr_html_(self):\n        return '<b>hi</b>'\n    def __repr__(self):\n        return 'H()'\nH()");
    expect(r.results).toEqual([{ "text/plain": "H()", "text/html": "<b>hi</b>" }]);
  });

  test("input() fails at once with EOFError", async () => {
    const r = await ctx.run("input('name? ')", { timeoutMs: 5_000 });
    expect(r.status).toBe("error");
    expect(r.error!.name).toBe("EOFError");
    expect(r.interrupted).toBe(false);
  });

  test("while True: pass with a 1 s timeout is interrupted and earlier variables are still there", async () => {
    await ctx.run("x = 41");
    const r = await ctx.run("while True: pass", { timeoutMs: 1_000 });
    expect(r.status).toBe("error");
    expect(r.error!.name).toBe("KeyboardInterrupt");
    expect(r.interrupted).toBe(true);
    expect(r.contextLost).toBeUndefined();
    expect((await ctx.run("x")).results[0]!["text/plain"]).toBe("41");
  });

  test("two contexts do not see each other's variables", async () => {
    const other = await engine.createContext({ runtime: "python" });
    await ctx.run("secret_of_first = 1");
    const r = await other.run("secret_of_first");
    expect(r.status).toBe("error");
    expect(r.error!.name).toBe("NameError");
    await other.close();
  });

  test("artifacts: files created or changed by a cell, with size, sha256 and MIME type", async () => {
    await ctx.run("pass"); // earlier tests' files are behind us
    const r = await ctx.run("import os\nos.makedirs('/sandbox/out', exist_ok=True)\nopen('/sandbox/out/data.csv', 'w').write('a,b\\n1,2\\n')");
    const sha = createHash("sha256").update("a,b\n1,2\n").digest("hex");
    expect(r.artifacts).toEqual([{ path: "out/data.csv", size: 8, sha256: sha, mimeType: "text/csv" }]);
    expect((await ctx.run("1")).artifacts).toEqual([]);
    const changed = await ctx.run("open('/sandbox/out/data.csv', 'a').write('3,4\\n')");
    expect(changed.artifacts.map((a) => [a.path, a.size])).toEqual([["out/data.csv", 12]]);
  });

  test("artifacts: an execution in the session lists the files it created", async () => {
    const result = await engine.execute({ code: "open('/sandbox/exec.txt', 'w').write('hi')" });
    expect(result.artifacts).toEqual([{ path: "exec.txt", size: 2, sha256: createHash("sha256").update("hi").digest("hex"), mimeType: "text/plain" }]);
  });
});
