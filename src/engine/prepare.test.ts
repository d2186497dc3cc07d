import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load";
import { RequestError } from "../errors";
import type { ExecutionRequest } from "../protocol/execution";
import { createRuntimeRegistry } from "../runtimes/registry";
import { distinctOutputPaths, prepareExecution } from "./prepare";

const context = (config: unknown = {}) => ({
  config: parseConfig(config),
  runtimes: createRuntimeRegistry(),
  runtimeImage: (name: string) => `test:${name}`,
  seccomp: { mode: "unconfined" as const },
  isolation: "runc" as const,
  owner: "test",
});

const prepare = (request: Partial<ExecutionRequest>, config: unknown = {}) =>
  prepareExecution({ code: "1", runtime: "python", ...request }, context(config));

const proxyVariables = (env: string[]) => env.filter((entry) => /^(HTTP|HTTPS)_PROXY=/.test(entry)).length;

describe("prepareExecution: installs and networks", () => {
  const whitelist = { network: { whitelist: ["api\\.test"] } };

  // [name, request, config, program network, container network, the program's allow list (undefined: no proxy)]
  test.each<[string, Partial<ExecutionRequest>, unknown, string, string, string[] | undefined]>([
    ["no install, default network", {}, {}, "none", "none", undefined],
    ["install, network unset (default none): through the proxy, the program reaches nothing", { installPackages: ["x"] }, whitelist, "none", "filtered", []],
    ["install, network none: the same", { installPackages: ["x"], network: "none" }, whitelist, "none", "filtered", []],
    ["install, filtered: the program keeps its own allow list", { installPackages: ["x"], network: "filtered", allow: ["b\\.test"] }, whitelist, "filtered", "filtered", ["api\\.test", "b\\.test"]],
    ["install, default filtered", { installPackages: ["x"] }, { ...whitelist, defaults: { network: "filtered" } }, "filtered", "filtered", ["api\\.test"]],
    ["install, host: no proxy", { installPackages: ["x"], network: "host" }, {}, "host", "host", undefined],
    ["filtered without install", { network: "filtered" }, whitelist, "filtered", "filtered", ["api\\.test"]],
  ])("%s", (_, request, config, program, container, allow) => {
    const prepared = prepare(request, config);
    expect(prepared.network).toBe(program as never);
    expect(prepared.spec.network).toBe(container as never);
    expect(prepared.policy?.allow).toEqual(allow as never);
    // The proxy variables are set exactly when the container goes through the proxy.
    expect(proxyVariables(prepared.env)).toBe(container === "filtered" ? 2 : 0);
  });

  test("the deny list holds in both phases, also for a none program", () => {
    expect(prepare({ installPackages: ["x"] }, { network: { blacklist: ["evil"] } }).policy?.deny).toEqual(["evil"]);
  });

  test.each<[string, Partial<ExecutionRequest>, string]>([
    ["allow with an install under network none", { installPackages: ["x"], network: "none", allow: ["a"] }, "allow"],
    ["deny with network none", { network: "none", deny: ["a"] }, "deny"],
    ["logNetwork without a proxy", { network: "none", logNetwork: true }, "logNetwork"],
  ])("%s is a RequestError naming the field", (_, request, field) => {
    expect(() => prepare(request)).toThrow(RequestError);
    try {
      prepare(request);
    } catch (error) {
      expect((error as RequestError).field).toBe(field);
    }
  });

  test("still works: logNetwork with an install under network none (the install's requests are logged)", () => {
    expect(prepare({ installPackages: ["x"], network: "none", logNetwork: true }).policy?.logNetwork).toBe(true);
  });
});

describe("prepareExecution: output paths", () => {
  test("spellings of one path are one entry, under the first spelling", () => {
    const prepared = prepare({ outputPaths: ["a", "./a", "/sandbox//a", "/sandbox/./a", "a/", ".//a", "/sandbox/b"] });
    expect(prepared.outputPaths).toEqual([
      { requested: "a", path: "a" },
      { requested: "/sandbox/b", path: "b" },
    ]);
  });

  test("distinctOutputPaths keeps the order of first appearance", () => {
    expect(distinctOutputPaths(["x/y", "z", "./x/y", "/sandbox/z"]).map((o) => o.requested)).toEqual(["x/y", "z"]);
  });

  test("more distinct paths than maxOutputFiles is a RequestError naming outputPaths; spellings count once", () => {
    const request = { outputPaths: ["a", "b", "c", "./a"], maxOutputFiles: 2 };
    expect(() => prepare(request)).toThrow("Cannot read back 3 output paths: over the maxOutputFiles limit of 2");
    expect(() => prepare({ ...request, maxOutputFiles: 3 })).not.toThrow();
    expect(() => prepare({ outputPaths: ["a", "b", "c"] }, { defaults: { maxOutputFiles: 2 } })).toThrow(RequestError);
  });

  test("the file limits come from the request, else the config", () => {
    expect(prepare({ outputPaths: ["a"] }).outputLimits).toEqual({ fileBytes: 64 * 1024 * 1024, totalBytes: 128 * 1024 * 1024 });
    expect(prepare({ outputPaths: ["a"], maxOutputFileSize: "1k" }, { defaults: { maxOutputFilesTotal: 4096 } }).outputLimits).toEqual({
      fileBytes: 1024,
      totalBytes: 4096,
    });
  });
});

describe("prepareExecution: python zygote and one-shot removal in the spec", () => {
  const specOf = (request: Partial<ExecutionRequest>, extra: { oneShot?: boolean; autoRemove?: boolean; isolation?: "runc" | "gvisor" } = {}, config: unknown = {}) =>
    prepareExecution({ code: "1", runtime: "python", ...request }, { ...context(config), ...extra }).spec;

  test.each<[string, Partial<ExecutionRequest>, Parameters<typeof specOf>[1], unknown, boolean]>([
    ["python, pooled, runc", {}, {}, {}, true],
    ["switched off", {}, {}, { security: { pythonZygote: false } }, false],
    ["gVisor", {}, { isolation: "gvisor" }, {}, false],
    ["one-shot", {}, { oneShot: true }, {}, false],
    ["a custom image", { image: "mine:py" }, {}, {}, false],
    ["node", { runtime: "node" }, {}, {}, false],
  ])("zygote: %s → %p", (_name, request, extra, config, expected) => {
    expect(specOf(request, extra, config).zygote === true).toBe(expected);
  });

  test.each<[string, Partial<ExecutionRequest>, Parameters<typeof specOf>[1], unknown, boolean]>([
    ["node, pooled", { runtime: "node" }, {}, {}, true],
    ["bun, pooled", { runtime: "bun" }, {}, {}, true],
    ["node under gVisor (the standby program takes the same drop)", { runtime: "node" }, { isolation: "gvisor" }, {}, true],
    ["switched off", { runtime: "node" }, {}, { security: { standbyPrograms: false } }, false],
    ["one-shot", { runtime: "node" }, { oneShot: true }, {}, false],
    ["a custom image", { runtime: "node", image: "mine:node" }, {}, {}, false],
    ["deno, pooled", { runtime: "deno" }, {}, {}, true],
    ["python", {}, {}, {}, false],
  ])("standby program: %s → %p", (_name, request, extra, config, expected) => {
    expect(specOf(request, extra, config).standby !== undefined).toBe(expected);
  });

  test.each<[string, Partial<ExecutionRequest>, boolean]>([
    ["node with secrets and env node never reads as it starts", { runtime: "node", env: { NODE_ENV: "production", A: "1" }, secrets: { K: "v" } }, true],
    ["node with its own NODE_OPTIONS", { runtime: "node", env: { NODE_OPTIONS: "--expose-gc" } }, false],
    ["node with LD_PRELOAD", { runtime: "node", env: { LD_PRELOAD: "/sandbox/x.so" } }, false],
    ["bun with NODE_ENV (its .env files)", { runtime: "bun", env: { NODE_ENV: "production" } }, false],
    ["deno, its default program file", { runtime: "deno" }, true],
    ["deno, a programFile of its own (deno started on main.mts)", { runtime: "deno", programFile: "tool.mts" }, false],
    ["deno with its own DENO_V8_FLAGS", { runtime: "deno", env: { DENO_V8_FLAGS: "--expose-gc" } }, false],
    ["deno with program arguments", { runtime: "deno", args: ["a"] }, false],
  ])("the execution goes to the standby program: %s → %p", (_name, request, expected) => {
    const prepared = prepareExecution({ code: "1", ...request }, context({}));
    expect(prepared.standby === true).toBe(expected);
  });

  test.each<[string, Parameters<typeof specOf>[1], boolean]>([
    ["one-shot with removal in the background", { oneShot: true, autoRemove: true }, true],
    ["one-shot, removal waited for", { oneShot: true }, false],
    ["pooled (the pool reuses it)", { autoRemove: true }, false],
  ])("autoRemove: %s → %p", (_name, extra, expected) => {
    expect(specOf({}, extra).autoRemove === true).toBe(expected);
  });
});
