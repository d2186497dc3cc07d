// Real-Docker tests of the seccomp modes: a custom profile is really
// applied (one that leaves out mkdir makes mkdir fail where strict lets it succeed), a
// profile that cannot be loaded fails the run loudly before any container work (never a
// silent fallback), and unconfined runs without a filter. The strict profile's syscall
// matrix is in hardening-syscalls.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DockerIsol8 } from "../../src/engine/engine";
import { ConfigError, ConflictError, Isol8Error } from "../../src/errors";
import { ROOT, testEngine } from "../helpers";
import { countingDocker, rejection } from "./execution-helpers";
import { ownedContainers } from "./owned-containers";

interface SeccompProfile {
  syscalls: { names: string[]; action: string }[];
}

const work = mkdtempSync(join(tmpdir(), "isol8-seccomp-"));
const noMkdirPath = join(work, "no-mkdir.json");
const engines: DockerIsol8[] = [];
const engineWith = (options: Parameters<typeof testEngine>[0]) => {
  const engine = testEngine(options);
  engines.push(engine);
  return engine;
};

/** Creates a directory, then (as the twin in the same run) writes a file: errno or "ok" for each. */
const MKDIR_PROBE = `
import errno, os
def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
print("mkdir", attempt(lambda: os.mkdir("/sandbox/made")))
print("makedirs", attempt(lambda: os.makedirs("/tmp/a/b")))
print("write", attempt(lambda: open("/sandbox/file.txt", "w").write("x")))
print("seccomp", [l.split()[1] for l in open("/proc/self/status") if l.startswith("Seccomp:")][0])
`;

beforeAll(() => {
  const strict = JSON.parse(readFileSync(join(ROOT, "embedded", "seccomp-strict.json"), "utf8")) as SeccompProfile;
  const removed = new Set(["mkdir", "mkdirat"]);
  for (const rule of strict.syscalls) {
    if (rule.action === "SCMP_ACT_ALLOW") rule.names = rule.names.filter((name) => !removed.has(name));
  }
  expect(JSON.stringify(strict)).not.toMatch(/"mkdir(at)?"/);
  writeFileSync(noMkdirPath, JSON.stringify(strict));
});

afterAll(async () => {
  await Promise.all(engines.map((e) => e.stop()));
  for (const e of engines) expect(await ownedContainers(e)).toEqual([]);
  rmSync(work, { recursive: true, force: true });
});

describe("custom profile", () => {
  test("a profile without mkdir/mkdirat makes mkdir fail with EPERM; everything else still runs", async () => {
    const engine = engineWith({ config: { security: { seccomp: "custom", customProfilePath: noMkdirPath } } });
    const r = await engine.execute({ runtime: "python", code: MKDIR_PROBE });
    expect(r.stdout).toBe("mkdir EPERM\nmakedirs EPERM\nwrite ok\nseccomp 2\n");
    const shell = await engine.execute({ runtime: "bash", code: "mkdir /sandbox/d; echo \"mkdir exit $?\"; echo hi > /sandbox/f && cat /sandbox/f" });
    expect(shell.stdout).toBe("mkdir exit 1\nhi\n");
    expect(shell.stderr).toContain("Operation not permitted");
  });

  test("twin: the strict profile lets the same mkdir succeed", async () => {
    const engine = engineWith({});
    const r = await engine.execute({ runtime: "python", code: MKDIR_PROBE });
    expect(r.stdout).toBe("mkdir ok\nmakedirs ok\nwrite ok\nseccomp 2\n");
  });

  test("a request's own security option selects the custom profile on a strict engine", async () => {
    const engine = engineWith({});
    const r = await engine.execute({ runtime: "python", code: MKDIR_PROBE, security: { seccomp: "custom", customProfilePath: noMkdirPath } });
    expect(r.stdout).toBe("mkdir EPERM\nmakedirs EPERM\nwrite ok\nseccomp 2\n");
  });
});

describe("a profile that cannot be loaded fails the run, before any container work", () => {
  const missing = join(work, "missing.json");
  const directory = join(work, "a-directory.json");
  const badJson = join(work, "bad.json");
  const noDefault = join(work, "no-default.json");
  beforeAll(() => {
    mkdirSync(directory);
    writeFileSync(badJson, "{ not json");
    writeFileSync(noDefault, JSON.stringify({ syscalls: [] }));
  });

  const cases: [string, () => string, string][] = [
    ["a missing file", () => missing, `Cannot load seccomp profile "${missing}": ENOENT`],
    ["an unreadable path (a directory)", () => directory, `Cannot load seccomp profile "${directory}": EISDIR`],
    ["invalid JSON", () => badJson, `Cannot load seccomp profile "${badJson}": invalid JSON`],
    ["no defaultAction", () => noDefault, `Cannot load seccomp profile "${noDefault}": "defaultAction" is missing`],
  ];

  test.each(cases)("%s: the config's custom profile fails every execution with a ConfigError", async (_, path, message) => {
    const counting = countingDocker();
    const engine = engineWith({ docker: counting.docker, config: { security: { seccomp: "custom", customProfilePath: path() } } });
    const error = await rejection(engine.execute({ runtime: "python", code: "print('ran')" }));
    expect(error).toBeInstanceOf(ConfigError); // not just any isol8 failure (Docker unavailable is one too)
    expect(error.message.startsWith(message)).toBe(true);
    expect(counting.created()).toBe(0);
  });

  test("the same failure through a request's security option on a strict engine (no fallback to strict)", async () => {
    const counting = countingDocker();
    const engine = engineWith({ docker: counting.docker });
    const error = await rejection(
      engine.execute({ runtime: "python", code: "print('ran')", security: { seccomp: "custom", customProfilePath: missing } }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`Cannot load seccomp profile "${missing}": ENOENT`);
    expect(counting.created()).toBe(0);
  });

  test("custom without customProfilePath is a ConfigError with a hint", async () => {
    const engine = engineWith({ config: { security: { seccomp: "custom" } } });
    const error = await rejection(engine.execute({ runtime: "python", code: "print('ran')" }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("security.customProfilePath is not set");
    expect((error as Isol8Error).hint).toContain("strict");
  });

  test("still works: a readable custom profile through the same kind of engine runs and creates its container", async () => {
    const counting = countingDocker();
    const engine = engineWith({ docker: counting.docker, config: { security: { seccomp: "custom", customProfilePath: noMkdirPath } } });
    const r = await engine.execute({ runtime: "python", code: "print('ran')" });
    expect(r.stdout).toBe("ran\n");
    expect(counting.created()).toBeGreaterThan(0);
  });
});

describe("unconfined", () => {
  test("runs with no seccomp filter (Seccomp 0), where strict has one (Seccomp 2)", async () => {
    const engine = engineWith({ config: { security: { seccomp: "unconfined" } } });
    const r = await engine.execute({ runtime: "python", code: MKDIR_PROBE });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("mkdir ok\nmakedirs ok\nwrite ok\nseccomp 0\n");
    const perRequest = await engineWith({}).execute({ runtime: "bash", code: "grep Seccomp: /proc/self/status", security: { seccomp: "unconfined" } });
    expect(perRequest.stdout).toMatch(/^Seccomp:\s+0\n$/);
  });
});

describe("a persistent container", () => {
  // The container is created by the session's first request; a later request asking for a
  // stricter profile must be refused or get it, never run under the first one's.
  test("a strict request after an unconfined first execution is refused (ConflictError), never run unconfined", async () => {
    const session = engineWith({ mode: "persistent" });
    const probe = "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('Seccomp:')][0])";
    const first = await session.execute({ runtime: "python", code: probe, security: { seccomp: "unconfined" } });
    expect(first.stdout).toBe("0\n");
    const error = await rejection(session.execute({ runtime: "python", code: probe, security: { seccomp: "strict" } }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toStartWith('Cannot switch seccomp from "unconfined" to "strict"');
  });

  test("twin: strict first, strict again runs filtered in the same container", async () => {
    const session = engineWith({ mode: "persistent" });
    const probe = "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('Seccomp:')][0])";
    const a = await session.execute({ runtime: "python", code: probe });
    const b = await session.execute({ runtime: "python", code: probe, security: { seccomp: "strict" } });
    expect([a.stdout, b.stdout, b.containerId]).toEqual(["2\n", "2\n", a.containerId]);
  });
});
