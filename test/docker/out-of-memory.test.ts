// Running out of memory is named whichever layer hits it: the kernel (the cgroup's OOM
// killer: exit 137, oomKilled) or the runtime itself (V8's heap limit, which isol8 sets from
// the memory limit, or Python's MemoryError): killReason "memory-limit" either way.
import { afterAll, describe, expect, test } from "bun:test";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";

const engine = testEngine({ pool: false });
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

const HEAP_BOMB = "const a = []; for (;;) a.push({ x: Math.random(), y: 'y'.repeat(100) });";

describe("a runtime's own out-of-memory stop is killReason memory-limit", () => {
  test.each([
    ["node", 134],
    ["deno", 133],
  ] as const)("%s: a JavaScript heap bomb stops at the heap limit set from memoryLimit", async (runtime, code) => {
    const result = await engine.execute({ runtime, code: HEAP_BOMB, memoryLimit: "256m", timeoutMs: 60_000 });
    expect(result.exitCode).toBe(code);
    expect(result.oomKilled).toBe(false);
    expect(result.resourceUsage.killReason).toBe("memory-limit");
  }, 90_000);

  test("python: an allocation Python cannot get (MemoryError) is memory-limit", async () => {
    const result = await engine.execute({ code: "x = bytearray(10**12)", memoryLimit: "256m" });
    expect(result).toMatchObject({ exitCode: 1, oomKilled: false });
    expect(result.resourceUsage.killReason).toBe("memory-limit");
  }, 60_000);

  test("the kernel's OOM kill stays oomKilled, exit 137, memory-limit", async () => {
    const result = await engine.execute({ code: "a = []\nwhile True: a.append(' ' * 10**6)", memoryLimit: "128m" });
    expect(result).toMatchObject({ exitCode: 137, oomKilled: true });
    expect(result.resourceUsage.killReason).toBe("memory-limit");
  }, 60_000);

  test("the heap limit follows memoryLimit (node: three quarters of it); a request may set its own", async () => {
    const show = "console.log(process.env.NODE_OPTIONS)";
    expect((await engine.execute({ runtime: "node", code: show, memoryLimit: "512m" })).stdout).toBe("--max-old-space-size=384\n");
    expect((await engine.execute({ runtime: "node", code: show, env: { NODE_OPTIONS: "--max-old-space-size=64" } })).stdout).toBe(
      "--max-old-space-size=64\n",
    );
  }, 60_000);
});

describe("still works: other exits are not mistaken for running out of memory", () => {
  test.each([
    ["node aborting on its own (134) without V8's message", "node", "process.abort()"],
    ["python failing with another error", "python", "raise ValueError('no')"],
    ["python printing the word MemoryError and exiting 1", "python", "import sys; print('MemoryError'); sys.exit(1)"],
    ["python printing MemoryError on stderr, then more output", "python", "import sys; print('MemoryError', file=sys.stderr); print('more', file=sys.stderr); sys.exit(1)"],
  ] as const)("%s", async (_, runtime, code) => {
    const result = await engine.execute({ runtime, code });
    expect(result.exitCode).not.toBe(0);
    expect(result.resourceUsage.killReason).toBeNull();
  }, 60_000);

  test("a node program with enough heap finishes", async () => {
    const result = await engine.execute({ runtime: "node", code: "const a = Array.from({ length: 1e5 }, (_, i) => ({ i })); console.log(a.length)" });
    expect(result).toMatchObject({ exitCode: 0, stdout: "100000\n" });
  }, 60_000);
});
