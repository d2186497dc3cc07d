import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { EngineContext } from "../../src/engine/contexts/engine-context";
import { testEngine } from "../helpers";

// JavaScript contexts: node, bun and deno, each in its own session (a session keeps its runtime's image).
const RUNTIMES = ["node", "bun", "deno"] as const;
const engines = new Map<string, DockerIsol8>();
const contexts = new Map<string, EngineContext>();

beforeAll(async () => {
  for (const runtime of RUNTIMES) {
    const engine = testEngine({ mode: "persistent" });
    await engine.start();
    engines.set(runtime, engine);
    contexts.set(runtime, await engine.createContext({ runtime }));
  }
}, 900_000);

afterAll(async () => {
  for (const engine of engines.values()) await engine.stop();
});

const plain = (r: { results: Record<string, string>[] }) => r.results.map((b) => b["text/plain"]);

describe.each(RUNTIMES)("%s context", (runtime) => {
  const ctx = () => contexts.get(runtime)!;

  test("x = 41, then x + 1 gives 42", async () => {
    expect((await ctx().run("const x = 41")).status).toBe("ok");
    expect(plain(await ctx().run("x + 1"))).toEqual(["42"]);
  });

  test("re-running a cell that declares const x works", async () => {
    const r = await ctx().run("const x = 5; x");
    expect(r.status).toBe("ok");
    expect(plain(r)).toEqual(["5"]);
  });

  test("variables, functions and imports persist across 50 cells", async () => {
    await ctx().run("let n = 0; function inc(v) { return v + 1 }; const path = await import('node:path')");
    for (let i = 0; i < 50; i++) expect((await ctx().run("n = inc(n)")).status).toBe("ok");
    expect(plain(await ctx().run("[n, path.basename('/a/b.txt')]"))).toEqual(["[ 50, 'b.txt' ]"]);
  });

  test("top-level await", async () => {
    expect(plain(await ctx().run("await new Promise((r) => setTimeout(() => r(7), 10))"))).toEqual(["7"]);
  });

  test("errors are structured with the user's frames only, and keep the state", async () => {
    await ctx().run("globalThis.kept = 'yes'");
    const r = await ctx().run("function boom() { throw new TypeError('bad') }\nboom()");
    expect(r.status).toBe("error");
    expect(r.error!.name).toBe("TypeError");
    expect(r.error!.value).toBe("bad");
    expect(r.error!.traceback).toContain("at boom");
    expect(r.error!.traceback).not.toContain("__isol8");
    expect(r.error!.traceback).not.toContain("node:inspector");
    expect(plain(await ctx().run("kept"))).toEqual(["'yes'"]);
  });

  test("console output and display() come back in order", async () => {
    const order: string[] = [];
    const r = await ctx().run("console.log('a'); display(1); console.log('b'); display.html('<b>x</b>'); 3", {
      onStdout: (t) => order.push(`out:${t}`),
      onResult: (b) => order.push(`result:${b["text/plain"]}`),
    });
    expect(r.stdout).toBe("a\nb\n");
    expect(r.results[1]).toEqual({ "text/plain": "<text/html>", "text/html": "<b>x</b>" });
    expect(order).toEqual(["out:a\n", "result:1", "out:b\n", "result:<text/html>", "result:3"]);
  });

  test("stdin is at its end at once", async () => {
    const r = await ctx().run("(await import('node:fs')).readFileSync(0, 'utf8').length", { timeoutMs: 5_000 });
    expect(plain(r)).toEqual(["0"]);
  });

  test("an awaiting cell is interrupted at its timeout and the state is kept (deno: the context is lost)", async () => {
    await ctx().run("var before = 'here'");
    const r = await ctx().run("await new Promise(() => {})", { timeoutMs: 1_000 });
    if (runtime === "deno") {
      expect({ lost: r.contextLost, interrupted: r.interrupted }).toEqual({ lost: { reason: "timeout" }, interrupted: false });
      await ctx().restart();
      await ctx().run("var before = 'here'");
      return;
    }
    expect({ interrupted: r.interrupted, error: r.error?.name, lost: r.contextLost, stderr: r.stderr }).toEqual({
      interrupted: true,
      error: "Interrupted",
      lost: undefined,
      stderr: "",
    });
    expect(plain(await ctx().run("before"))).toEqual(["'here'"]);
  });

  test("a busy loop at its timeout loses the context (reason timeout), never hangs; restart gives a fresh one", async () => {
    await ctx().run("var before = 'here'");
    const r = await ctx().run("while (true) {}", { timeoutMs: 1_000 });
    expect({ lost: r.contextLost, interrupted: r.interrupted }).toEqual({ lost: { reason: "timeout" }, interrupted: false });
    await ctx().restart();
    expect(plain(await ctx().run("typeof before"))).toEqual(["'undefined'"]);
    await ctx().run("const x = 1; var n = 0; function inc(v) { return v + 1 }");
  });
});

describe("TypeScript", () => {
  test.each(["node", "bun"] as const)("%s runs TypeScript cells", async (runtime) => {
    const r = await contexts.get(runtime)!.run("const t: number = 3; interface P { a: string }\nt * 2");
    expect({ status: r.status, results: plain(r), error: r.error, lost: r.contextLost }).toEqual({ status: "ok", results: ["6"], error: undefined, lost: undefined });
  });
});
