import { describe, expect, test } from "bun:test";
import { createRuntimeRegistry } from "../runtimes/registry";
import { fitsStandby, type StandbyChoice, standbyEnv, standbyProgram } from "./standby";

const runtimes = createRuntimeRegistry();
const node = runtimes.get("node");
const bun = runtimes.get("bun");
const deno = runtimes.get("deno");
const heap = { NODE_OPTIONS: "--max-old-space-size=384" };
const base: StandbyChoice = { enabled: true, runtime: node, customImage: false, oneShot: false, constantEnv: heap };

describe("standbyProgram", () => {
  test.each<[string, Partial<StandbyChoice>, boolean]>([
    ["node, built-in image, pooled", {}, true],
    ["bun", { runtime: bun, constantEnv: {} }, true],
    ["switched off (security.standbyPrograms false)", { enabled: false }, false],
    ["python (the zygote's)", { runtime: runtimes.get("python") }, false],
    ["deno (on its default program file)", { runtime: deno, constantEnv: {} }, true],
    ["bash", { runtime: runtimes.get("bash") }, false],
    ["a custom image (may not hold the standby scripts)", { customImage: true }, false],
    ["a one-shot (cold) container", { oneShot: true }, false],
  ])("%s", (_name, change, expected) => {
    expect(standbyProgram({ ...base, ...change }) !== undefined).toBe(expected);
  });

  test("node: its standby script, with the constant entries node reads as it starts", () => {
    expect(standbyProgram({ ...base, constantEnv: { ...heap, OTHER: "x" } })).toEqual({
      argv: ["node", "/usr/local/lib/isol8/standby/node.cjs"],
      env: ["NODE_OPTIONS=--max-old-space-size=384"],
      startupFiles: [],
    });
  });

  test("bun: the files of its working directory it reads as it starts", () => {
    const program = standbyProgram({ ...base, runtime: bun, constantEnv: {} });
    expect(program?.argv).toEqual(["bun", "run", "/usr/local/lib/isol8/standby/bun.mjs"]);
    expect(program?.startupFiles).toEqual(expect.arrayContaining(["bunfig.toml", ".env", ".env.local", ".env.production"]));
  });

  test("deno: started on the default program file with the standby script run before it; the entries it reads as it starts", () => {
    const program = standbyProgram({ ...base, runtime: deno, constantEnv: { DENO_V8_FLAGS: "--max-old-space-size=128", TOKEN: "x" } });
    expect(program).toEqual({
      argv: ["deno", "run", "--allow-all", "--quiet", "--preload", "/usr/local/lib/isol8/standby/deno.mjs", "/sandbox/main.mts"],
      env: ["DENO_V8_FLAGS=--max-old-space-size=128"],
      startupFiles: ["deno.json", "deno.jsonc", "package.json", "deno.lock", ".npmrc", "import_map.json"],
      file: "/sandbox/main.mts",
    });
  });
});

describe("fitsStandby", () => {
  const program = standbyProgram(base)!;
  const bunProgram = standbyProgram({ ...base, runtime: bun, constantEnv: {} })!;
  const denoProgram = standbyProgram({ ...base, runtime: deno, constantEnv: { DENO_V8_FLAGS: "--max-old-space-size=128" } })!;
  const denoHeap = "DENO_V8_FLAGS=--max-old-space-size=128";
  test.each<[string, typeof program, typeof node, string[], boolean]>([
    ["the engine's own entries", program, node, ["NODE_OPTIONS=--max-old-space-size=384"], true],
    ["plus secrets and entries node never reads as it starts", program, node, ["NODE_OPTIONS=--max-old-space-size=384", "API_KEY=s", "NODE_ENV=production", "PATH=/x", "HOME=/h"], true],
    ["a request's own NODE_OPTIONS", program, node, ["NODE_OPTIONS=--max-old-space-size=384 --expose-gc"], false],
    ["NODE_OPTIONS left out (never happens: the engine sets it)", program, node, [], false],
    ["another NODE_ variable (NODE_EXTRA_CA_CERTS)", program, node, ["NODE_OPTIONS=--max-old-space-size=384", "NODE_EXTRA_CA_CERTS=/sandbox/ca.pem"], false],
    ["the dynamic loader's (LD_PRELOAD)", program, node, ["NODE_OPTIONS=--max-old-space-size=384", "LD_PRELOAD=/sandbox/x.so"], false],
    ["a locale (LANG)", program, node, ["NODE_OPTIONS=--max-old-space-size=384", "LANG=de_DE.UTF-8"], false],
    ["libuv's (UV_THREADPOOL_SIZE)", program, node, ["NODE_OPTIONS=--max-old-space-size=384", "UV_THREADPOOL_SIZE=1"], false],
    ["OpenSSL's", program, node, ["NODE_OPTIONS=--max-old-space-size=384", "OPENSSL_CONF=/sandbox/o.cnf"], false],
    ["bun: secrets only", bunProgram, bun, ["TOKEN=t"], true],
    ["bun: NODE_ENV (chooses its .env files)", bunProgram, bun, ["NODE_ENV=production"], false],
    ["bun: its own variables", bunProgram, bun, ["BUN_CONFIG_VERBOSE_FETCH=1"], false],
    ["bun: the colour switches", bunProgram, bun, ["NO_COLOR=1"], false],
    ["deno: the engine's heap flags and secrets", denoProgram, deno, [denoHeap, "TOKEN=t", "PATH=/x"], true],
    ["deno: a request's own DENO_V8_FLAGS", denoProgram, deno, ["DENO_V8_FLAGS=--expose-gc"], false],
    ["deno: another of its variables (DENO_AUTH_TOKENS)", denoProgram, deno, [denoHeap, "DENO_AUTH_TOKENS=t@h"], false],
    ["deno: the npm registry", denoProgram, deno, [denoHeap, "NPM_CONFIG_REGISTRY=http://r"], false],
    ["deno: a proxy", denoProgram, deno, [denoHeap, "HTTPS_PROXY=http://p:3128"], false],
    ["deno: HOME", denoProgram, deno, [denoHeap, "HOME=/sandbox"], false],
  ])("%s → %p", (_name, standby, runtime, env, expected) => {
    expect(fitsStandby(standby, runtime, env, { programPath: standby.file ?? "/sandbox/main.js", args: [] })).toBe(expected);
  });

  test.each<[string, string, string[], boolean]>([
    ["deno: its default program file", "/sandbox/main.mts", [], true],
    ["deno: another program file (programFile): deno started on main.mts", "/sandbox/tool.mts", [], false],
    ["deno: program arguments (deno started without: Deno.args, process.argv)", "/sandbox/main.mts", ["a"], false],
  ])("%s → %p", (_name, programPath, args, expected) => {
    expect(fitsStandby(denoProgram, deno, [denoHeap], { programPath, args })).toBe(expected);
  });

  test("node and bun take any program file and arguments (they load the file after the spec)", () => {
    expect(fitsStandby(program, node, ["NODE_OPTIONS=--max-old-space-size=384"], { programPath: "/sandbox/tool.mjs", args: ["a"] })).toBe(true);
    expect(fitsStandby(bunProgram, bun, [], { programPath: "/sandbox/tool.ts", args: ["a"] })).toBe(true);
  });

  test("a runtime without a standby definition never fits", () => {
    expect(fitsStandby(program, runtimes.get("python"), ["NODE_OPTIONS=--max-old-space-size=384"], { programPath: "/sandbox/main.py", args: [] })).toBe(false);
  });
});

describe("standbyEnv", () => {
  test("one line per argument, environment entry and start-up file, as the supervisor reads them", () => {
    expect(standbyEnv({ argv: ["bun", "run", "/s.mjs"], env: ["A=1"], startupFiles: ["bunfig.toml", ".env"] })).toBe(
      "ISOL8_STANDBY=abun\narun\na/s.mjs\neA=1\nfbunfig.toml\nf.env",
    );
  });

  test.each([["a line break", "A=1\nB=2"], ["a NUL", "A=\0"]])("an entry with %s is refused (it would split)", (_name, entry) => {
    expect(() => standbyEnv({ argv: ["node"], env: [entry], startupFiles: [] })).toThrow("line break or NUL");
  });
});
