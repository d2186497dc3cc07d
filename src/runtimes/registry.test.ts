import { describe, expect, test } from "bun:test";
import { UsageError } from "../errors";
import { BUILTIN_RUNTIMES, createRuntimeRegistry } from "./registry";
import { thrown } from "../../test/thrown";

const registry = createRuntimeRegistry();

const usageError = (fn: () => unknown) => thrown(fn, UsageError);

describe("detect", () => {
  const cases: [string, string][] = [
    ["main.py", "python"],
    ["main.mjs", "node"],
    ["main.js", "node"],
    ["main.cjs", "node"],
    ["main.ts", "bun"],
    ["main.tsx", "bun"],
    ["main.mts", "deno"],
    ["main.sh", "bash"],
    ["main.bash", "bash"],
    ["dir.d/script.PY", "python"],
    ["/abs/path/to/x.Sh", "bash"],
    ["archive.tar.py", "python"],
  ];
  test.each(cases)("%p → %p", (file, runtime) => {
    expect<string>(registry.detect(file).name).toBe(runtime);
  });

  const unknown: [string, string][] = [
    ["main.rb", '".rb"'],
    ["Makefile", '"(none)"'],
    [".py", '"(none)"'], // a dotfile has no extension
    ["main.", '"."'],
  ];
  test.each(unknown)("%p is an unknown extension (%s) and the hint lists the runtimes", (file, ext) => {
    const error = usageError(() => registry.detect(file));
    expect(error.message).toBe(`Cannot detect the runtime of "${file}": unknown extension ${ext}`);
    expect(error.hint).toContain("python, node, bun, deno, bash");
    expect(error.exitCode).toBe(2);
  });
});

describe("get and has", () => {
  test.each(["python", "node", "bun", "deno", "bash"] as const)("%p", (name) => {
    expect<string>(registry.get(name).name).toBe(name);
    expect(registry.has(name)).toBe(true);
  });

  test("an unknown runtime is a usage error listing the available runtimes", () => {
    const error = usageError(() => registry.get("ruby"));
    expect(error.message).toBe('Cannot use runtime "ruby": unknown runtime');
    expect(error.hint).toBe("available runtimes: python, node, bun, deno, bash");
    expect(registry.has("ruby")).toBe(false);
    expect(registry.has("Python")).toBe(false);
  });

  test("a registry over other definitions lists only those", () => {
    const only = createRuntimeRegistry(BUILTIN_RUNTIMES.filter((r) => r.name === "bash"));
    expect(usageError(() => only.get("python")).hint).toBe("available runtimes: bash");
    expect(usageError(() => only.detect("x.py")).hint).toBe("pass --runtime (available runtimes: bash)");
  });
});

describe("built-in definitions", () => {
  test("are listed in the documented order", () => {
    expect(registry.all.map((r) => r.name)).toEqual(["python", "node", "bun", "deno", "bash"]);
  });

  test.each(BUILTIN_RUNTIMES.map((r) => [r.name, r] as const))("%s is consistent", (_, runtime) => {
    expect(runtime.extensions).toContain(runtime.defaultExtension);
    expect(runtime.command).toContain("{file}");
    for (const ext of runtime.extensions) expect(ext).toMatch(/^\.[a-z0-9]+$/);
    expect(registry.detect(`main${runtime.defaultExtension}`).name).toBe(runtime.name);
  });

  test("no extension selects two runtimes", () => {
    const all = BUILTIN_RUNTIMES.flatMap((r) => r.extensions);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe("list and register (the isol8 0.x RuntimeRegistry calls)", () => {
  test("list() is every built-in runtime in order", () => {
    expect(registry.list().map((r) => r.name)).toEqual(["python", "node", "bun", "deno", "bash"]);
  });

  test("registering a runtime the registry has changes nothing", () => {
    registry.register(BUILTIN_RUNTIMES[0]);
    expect(registry.list()).toEqual(BUILTIN_RUNTIMES);
  });

  test("registering a new runtime is refused, naming it and the built-in ones", () => {
    const ruby = { ...BUILTIN_RUNTIMES[0], name: "ruby" as never, extensions: [".rb"] };
    const error = usageError(() => registry.register(ruby));
    expect(error.message).toBe('Cannot register runtime "ruby": isol8 runs its built-in runtimes only (python, node, bun, deno, bash)');
    expect(() => registry.get("ruby")).toThrow('Cannot use runtime "ruby": unknown runtime');
  });
});
