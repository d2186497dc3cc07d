import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../errors";
import { configCandidates, loadConfig, parseConfig } from "./load";
import { deepMerge } from "./merge";
import { defaultConfig } from "./schema";

const made: string[] = [];

/** A fresh directory with `cwd/` and `home/` inside it. */
function sandboxDirs(): { cwd: string; home: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), "isol8-load-"));
  made.push(root);
  const cwd = join(root, "cwd");
  const home = join(root, "home");
  mkdirSync(cwd);
  mkdirSync(home);
  return { cwd, home, root };
}

function write(path: string, content: unknown): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const projectFile = (cwd: string) => join(cwd, "isol8.config.json");
const userFile = (home: string) => join(home, ".isol8", "config.json");

/** Runs fn and returns the ConfigError it throws (fails the test otherwise). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}

/** A user-facing message: no stack trace, no raw valibot error. */
function expectCleanMessage(message: string): void {
  expect(message).not.toContain("ValiError");
  expect(message).not.toMatch(/\n\s+at /);
  expect(message).not.toContain("[object Object]");
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("configCandidates", () => {
  test("the project file and the user file", () => {
    const { cwd, home } = sandboxDirs();
    expect(configCandidates({ cwd, home })).toEqual({ project: projectFile(cwd), user: userFile(home) });
  });
});

describe("loadConfig() is the configuration itself (isol8 0.x) and still { config, source }", () => {
  test("its keys are the configuration's; config and source are there but not enumerated", () => {
    const { cwd, home } = sandboxDirs();
    write(projectFile(cwd), { maxConcurrent: 4 });
    const loaded = loadConfig({ cwd, home });
    expect(loaded.maxConcurrent).toBe(4);
    expect(loaded.defaults.timeoutMs).toBe(30_000);
    const { config, source } = loaded;
    expect(config.maxConcurrent).toBe(4);
    expect(source).toBe(projectFile(cwd));
    expect(JSON.parse(JSON.stringify(loaded))).toEqual(JSON.parse(JSON.stringify(config)));
    expect(Object.keys(loaded)).toEqual(Object.keys(config));
  });

  test("it passes the config schema as it is (new DockerIsol8({ config: loadConfig() }))", () => {
    const { cwd, home } = sandboxDirs();
    expect(parseConfig(loadConfig({ cwd, home }))).toEqual(defaultConfig());
  });
});

describe("loadConfig search order", () => {
  test("uses the built-in defaults when no file exists", () => {
    const { cwd, home } = sandboxDirs();
    const loaded = loadConfig({ cwd, home });
    expect(loaded.source).toBeNull();
    expect(loaded.sources).toEqual([]);
    expect(loaded.config).toEqual(defaultConfig());
  });

  test("reads the user file when there is no project file", () => {
    const { cwd, home } = sandboxDirs();
    write(userFile(home), { maxConcurrent: 3 });
    const loaded = loadConfig({ cwd, home });
    expect(loaded.source).toBe(userFile(home));
    expect(loaded.config.maxConcurrent).toBe(3);
  });

  test("./isol8.config.json is merged over <home>/.isol8/config.json", () => {
    const { cwd, home } = sandboxDirs();
    write(userFile(home), { maxConcurrent: 3, poolStrategy: "secure", audit: { enabled: true } });
    write(projectFile(cwd), { maxConcurrent: 5 });
    const loaded = loadConfig({ cwd, home });
    expect(loaded.source).toBe(projectFile(cwd));
    expect(loaded.sources).toEqual([userFile(home), projectFile(cwd)]);
    expect(loaded.config.maxConcurrent).toBe(5);
    // The user's own settings stay: an empty project file cannot drop them (the audit log, say).
    expect(loaded.config.poolStrategy).toBe("secure");
    expect(loaded.config.audit.enabled).toBe(true);
  });

  test("an explicit file is the whole configuration: neither other file is read", () => {
    const { cwd, home, root } = sandboxDirs();
    write(userFile(home), { maxConcurrent: 3, poolStrategy: "secure" });
    write(projectFile(cwd), { maxConcurrent: 5 });
    const explicit = write(join(root, "explicit.json"), { maxConcurrent: 7 });
    const loaded = loadConfig({ cwd, home, file: explicit });
    expect(loaded.source).toBe(explicit);
    expect(loaded.sources).toEqual([explicit]);
    expect(loaded.config.maxConcurrent).toBe(7);
    expect(loaded.config.poolStrategy).toBe("fast");
  });

  test("an explicit file is resolved against cwd", () => {
    const { cwd, home } = sandboxDirs();
    write(join(cwd, "custom.json"), { maxConcurrent: 4 });
    expect(loadConfig({ cwd, home, file: "custom.json" }).source).toBe(join(cwd, "custom.json"));
  });

  test("an explicit file that does not exist is an error naming it", () => {
    const { cwd, home } = sandboxDirs();
    write(projectFile(cwd), { maxConcurrent: 5 });
    const error = configError(() => loadConfig({ cwd, home, file: "missing.json" }));
    expect(error.message).toBe(`Cannot load config "${join(cwd, "missing.json")}": file not found`);
    expect(error.exitCode).toBe(2);
  });

  test("overrides merge over the file", () => {
    const { cwd, home } = sandboxDirs();
    write(projectFile(cwd), { maxConcurrent: 5, defaults: { timeoutMs: 1000 } });
    const { config } = loadConfig({ cwd, home, overrides: { defaults: { pidsLimit: 8 } } });
    expect(config.maxConcurrent).toBe(5);
    expect(config.defaults.timeoutMs).toBe(1000);
    expect(config.defaults.pidsLimit).toBe(8);
  });

  test("an invalid user file is named even when a project file is merged over it", () => {
    const { cwd, home } = sandboxDirs();
    write(userFile(home), { maxConcurrent: 0 });
    write(projectFile(cwd), { maxConcurrent: 5 });
    const error = configError(() => loadConfig({ cwd, home }));
    expect(error.message).toStartWith(`Cannot load config "${userFile(home)}":\n  maxConcurrent: `);
  });
});

describe("a config file found in the working directory cannot loosen the sandbox", () => {
  const hostile = { audit: { enabled: true, postLogScript: "./hook.sh" }, security: { seccomp: "unconfined" }, maxConcurrent: 2 };

  test("postLogScript and unconfined: one ConfigError (exit 2) naming each key, the file and the opt-in", () => {
    const { cwd, home } = sandboxDirs();
    const file = write(projectFile(cwd), hostile);
    const error = configError(() => loadConfig({ cwd, home }));
    expect(error.exitCode).toBe(2);
    const [first, ...lines] = error.message.split("\n");
    expect(first).toBe(`Cannot use config "${file}": it was found in the working directory, and these keys loosen the sandbox or run programs on the host:`);
    expect(lines.map((l) => l.trim())).toEqual([
      'security.seccomp: "unconfined" (replaces the strict seccomp allowlist of every execution: custom with a profile file, unconfined with none)',
      'audit.postLogScript: "./hook.sh" (a program isol8 starts on the host, outside any sandbox)',
    ]);
    expect(error.hint).toBe(`if you trust this file, name it: --config ${file} (or ISOL8_CONFIG=${file}); or put these keys in ~/.isol8/config.json`);
    expectCleanMessage(error.message);
  });

  test("still works: the same file named explicitly is trusted", () => {
    const { cwd, home } = sandboxDirs();
    write(projectFile(cwd), hostile);
    const { config } = loadConfig({ cwd, home, file: "isol8.config.json" });
    expect(config.security.seccomp).toBe("unconfined");
    expect(config.audit.postLogScript).toBe("./hook.sh");
  });

  test("still works: the same keys in the user's own file are trusted", () => {
    const { cwd, home } = sandboxDirs();
    write(userFile(home), hostile);
    const { config } = loadConfig({ cwd, home });
    expect(config.security.seccomp).toBe("unconfined");
  });

  test("still works: a project file may repeat what the user's file says, tighten it, and set limits", () => {
    const { cwd, home } = sandboxDirs();
    write(userFile(home), { security: { seccomp: "unconfined" }, network: { whitelist: ["a.test", "b.test"] } });
    write(projectFile(cwd), { security: { seccomp: "unconfined" }, network: { whitelist: ["a.test"] }, defaults: { memoryLimit: "2g" } });
    const { config } = loadConfig({ cwd, home });
    expect(config.security.seccomp).toBe("unconfined");
    expect(config.network.whitelist).toEqual(["a.test"]);
    expect(config.defaults.memoryLimit).toBe("2g");
  });

  test("a project file cannot turn off the audit log the user's file turns on", () => {
    const { cwd, home } = sandboxDirs();
    write(userFile(home), { audit: { enabled: true, required: true } });
    write(projectFile(cwd), { audit: { enabled: false } });
    const error = configError(() => loadConfig({ cwd, home }));
    expect(error.message).toContain("audit.enabled: false (turns off the audit log your own configuration turns on)");
  });
});

describe("loadConfig merging", () => {
  test("a partial file keeps every other default", () => {
    const { cwd, home } = sandboxDirs();
    write(projectFile(cwd), { defaults: { timeoutMs: 5000 } });
    const { config } = loadConfig({ cwd, home });
    const expected = defaultConfig();
    expected.defaults.timeoutMs = 5000;
    expect(config).toEqual(expected);
    expect(config.defaults.memoryLimit).toBe("512m");
    expect(config.defaults.network).toBe("none");
    expect(config.security.seccomp).toBe("strict");
  });

  test("the built-in defaults are the secure ones", () => {
    const config = defaultConfig();
    expect(config.defaults.network).toBe("none");
    expect(config.security.seccomp).toBe("strict");
    expect(config.defaults.maxOutputSize).toBe(1_048_576);
  });
});

describe("loadConfig errors", () => {
  test("invalid JSON names the file", () => {
    const { cwd, home } = sandboxDirs();
    const file = write(projectFile(cwd), "{ not json");
    const error = configError(() => loadConfig({ cwd, home }));
    expect(error.message).toStartWith(`Cannot load config "${file}": invalid JSON`);
    expectCleanMessage(error.message);
  });

  const invalid: { name: string; document: unknown; line: RegExp }[] = [
    { name: "unknown top-level key", document: { bogus: 1 }, line: /^bogus: unknown key$/ },
    { name: "unknown nested key", document: { defaults: { timeout: 1 } }, line: /^defaults\.timeout: unknown key$/ },
    { name: "deeply nested unknown key", document: { poolSize: { clean: 1, warm: 2 } }, line: /^poolSize/ },
    { name: "wrong type", document: { maxConcurrent: "ten" }, line: /^maxConcurrent: / },
    { name: "wrong nested type", document: { cleanup: { autoPrune: "yes" } }, line: /^cleanup\.autoPrune: / },
    { name: "bad picklist value", document: { defaults: { network: "bridge" } }, line: /^defaults\.network: / },
    { name: "non-integer", document: { defaults: { timeoutMs: 1.5 } }, line: /^defaults\.timeoutMs: / },
    { name: "bad size", document: { defaults: { memoryLimit: "12x" } }, line: /^defaults\.memoryLimit: .*512m/ },
    { name: "negative size", document: { defaults: { tmpSize: -1 } }, line: /^defaults\.tmpSize: / },
    { name: "document not an object", document: 42, line: /^\(root\): / },
    { name: "null document", document: null, line: /^\(root\): / },
  ];

  test.each(invalid)("$name: ConfigError naming the file with a `path: message` line", ({ document, line }) => {
    const { cwd, home } = sandboxDirs();
    const file = write(projectFile(cwd), document);
    const error = configError(() => loadConfig({ cwd, home }));
    expect(error.message).toStartWith(`Cannot load config "${file}":\n`);
    const lines = error.message.split("\n").slice(1).map((l) => l.trim());
    expect(lines.some((l) => line.test(l))).toBe(true);
    expectCleanMessage(error.message);
  });

  test('{"defaults":{"memoryLimit":"12x"}} gives exactly one issue line', () => {
    const { cwd, home } = sandboxDirs();
    const file = write(projectFile(cwd), { defaults: { memoryLimit: "12x" } });
    const error = configError(() => loadConfig({ cwd, home }));
    expect(error.message).toContain(file);
    const lines = error.message.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]!.trim()).toStartWith("defaults.memoryLimit:");
    expect(lines[1]).toContain('"512m"');
  });

  // valibot's object schemas accept arrays (typeof [] === "object"); the config must not.
  const arrays: { name: string; document: unknown; line: RegExp }[] = [
    { name: "an empty array as the document", document: [], line: /^\(root\): / },
    { name: "an array as the document", document: [1, 2], line: /^\(root\): / },
    { name: "an empty array for defaults", document: { defaults: [] }, line: /^defaults: / },
    { name: "an empty array for network", document: { network: [] }, line: /^network: / },
  ];

  test.each(arrays)("$name is a wrong type, not an empty object", ({ document, line }) => {
    const { cwd, home } = sandboxDirs();
    const file = write(projectFile(cwd), document);
    const error = configError(() => loadConfig({ cwd, home }));
    expect(error.message).toStartWith(`Cannot load config "${file}":\n`);
    const lines = error.message.split("\n").slice(1).map((l) => l.trim());
    expect(lines.some((l) => line.test(l))).toBe(true);
  });

  test("every issue gets its own line", () => {
    const { cwd, home } = sandboxDirs();
    write(projectFile(cwd), { bogus: true, defaults: { pidsLimit: 0 } });
    const error = configError(() => loadConfig({ cwd, home }));
    const lines = error.message.split("\n").slice(1).map((l) => l.trim());
    expect(lines).toContain("bogus: unknown key");
    expect(lines.some((l) => l.startsWith("defaults.pidsLimit:"))).toBe(true);
  });
});

describe("parseConfig", () => {
  test("fills in defaults for an empty document", () => {
    expect(parseConfig({})).toEqual(defaultConfig());
  });

  test("names the origin in errors", () => {
    const error = configError(() => parseConfig({ maxConcurrent: 0 }, "from-test"));
    expect(error.message).toStartWith('Cannot load config "from-test":\n  maxConcurrent: ');
  });

  test("accepts poolSize as a number or as an object", () => {
    expect(parseConfig({ poolSize: 0 }).poolSize).toBe(0);
    expect(parseConfig({ poolSize: { dirty: 3 } }).poolSize).toEqual({ clean: 1, dirty: 3 });
  });

  test("accepts a $schema key", () => {
    expect(parseConfig({ $schema: "./schema/isol8.config.schema.json" }).$schema).toBe("./schema/isol8.config.schema.json");
  });
});

/** deepMerge without the static type of its base, to test merges that change shapes. */
const merge = (base: unknown, override: unknown): unknown => deepMerge(base, override);

describe("deepMerge", () => {
  test("merges nested objects key by key", () => {
    expect(merge({ a: { x: 1, y: 2 }, b: 1 }, { a: { y: 3 } })).toEqual({ a: { x: 1, y: 3 }, b: 1 });
  });

  test("replaces arrays instead of concatenating them", () => {
    expect(merge({ list: [1, 2, 3] }, { list: [4] })).toEqual({ list: [4] });
  });

  test("undefined in the override keeps the base value", () => {
    expect(merge({ a: 1, b: { c: 2 } }, { a: undefined, b: { c: undefined } })).toEqual({ a: 1, b: { c: 2 } });
    expect(merge({ a: 1 }, undefined)).toEqual({ a: 1 });
  });

  test("null in the override replaces the base value", () => {
    expect(merge({ a: { b: 1 } }, { a: null })).toEqual({ a: null });
  });

  test("an object replaces a scalar and a scalar replaces an object", () => {
    expect(merge({ a: 1 }, { a: { b: 2 } })).toEqual({ a: { b: 2 } });
    expect(merge({ a: { b: 2 } }, { a: 1 })).toEqual({ a: 1 });
  });

  test("adds keys missing from the base", () => {
    expect(merge({ a: 1 }, { b: 2 })).toEqual({ a: 1, b: 2 });
  });

  test("byte arrays are values, not objects to merge", () => {
    const bytes = new Uint8Array([1, 2]);
    expect((merge({ a: { x: 1 } }, { a: bytes }) as { a: unknown }).a).toBe(bytes);
  });

  test("does not modify its inputs", () => {
    const base = { a: { x: 1 } };
    const override = { a: { y: 2 } };
    merge(base, override);
    expect(base).toEqual({ a: { x: 1 } });
    expect(override).toEqual({ a: { y: 2 } });
  });

  test("a non-object base is replaced by the override", () => {
    expect(merge(1, { a: 1 })).toEqual({ a: 1 });
    expect(merge({ a: 1 }, 5)).toBe(5);
  });
});
