import { afterAll, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import { testEngine } from "../helpers";

// Lifecycle and limits of contexts: idle stop, the library's cap, one audit record per cell,
// contexts only in persistent engines.
const engines: DockerIsol8[] = [];
const started = async (options: Parameters<typeof testEngine>[0]) => {
  const engine = testEngine(options);
  engines.push(engine);
  await engine.start();
  return engine;
};
afterAll(async () => {
  for (const engine of engines) await engine.stop();
});

describe("context lifecycle", () => {
  test("a context idle for contexts.idleMs is stopped: its state is lost, restart brings it back", async () => {
    const engine = await started({ mode: "persistent", config: { contexts: { idleMs: 300 } } });
    const ctx = await engine.createContext();
    await ctx.run("x = 1");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await engine.listContexts())[0]).toMatchObject({ id: ctx.id, state: "lost", lostReason: "idle" });
    await expect(ctx.run("x")).rejects.toThrow(/was lost \(idle\)/);
    await ctx.restart();
    expect((await ctx.run("x")).error?.name).toBe("NameError");
  });

  test("contexts.maxPerSession caps the contexts of an engine; closing one makes room", async () => {
    const engine = await started({ mode: "persistent", config: { contexts: { maxPerSession: 2 } } });
    const a = await engine.createContext();
    await engine.createContext();
    await expect(engine.createContext()).rejects.toThrow(/contexts.maxPerSession is 2/);
    await a.close();
    expect((await engine.createContext()).id).toBeString();
    expect(await engine.listContexts()).toHaveLength(2);
  });

  test("the audit log has one record per cell", async () => {
    const lines: string[] = [];
    const engine = await started({
      mode: "persistent",
      config: { audit: { enabled: true, destination: "stdout" } },
      audit: { write: (line) => lines.push(line) },
    });
    const ctx = await engine.createContext();
    await ctx.run("a = 1");
    await ctx.run("1/0");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cells = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r.kind === "cell");
    expect(cells.map((r) => [r.contextId, r.status, r.runtime])).toEqual([
      [ctx.id, "ok", "python"],
      [ctx.id, "error", "python"],
    ]);
    expect(cells[1]!.errorName).toBe("ZeroDivisionError");
    expect(cells[0]!.code).toBeUndefined();
  });

  test("contexts live only in persistent engines, never in the ephemeral pool", async () => {
    const engine = await started({});
    expect(() => engine.createContext()).toThrow(/contexts live only in a persistent engine/);
    expect(await engine.listContexts()).toEqual([]);
  });

  test("a context of another runtime than the session's is refused; bash fits any session", async () => {
    const engine = await started({ mode: "persistent" });
    await engine.createContext({ runtime: "python" });
    await expect(engine.createContext({ runtime: "node" })).rejects.toThrow(/Cannot switch runtime/);
    expect((await (await engine.createContext({ runtime: "bash" })).run("echo ok")).stdout).toBe("ok\n");
  });
});
