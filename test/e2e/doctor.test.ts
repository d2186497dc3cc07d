// `isol8 doctor` and `isol8 doctor --attack` on this machine, as a user runs them: the host
// checks pass, the attack battery passes under runc and gVisor, and a sabotaged configuration
// (seccomp unconfined) makes the battery fail, naming what got through.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { release as hostRelease, tmpdir } from "node:os";
import { join } from "node:path";
import { createDockerClient } from "../../src/engine/docker";
import { findContainers } from "../../src/engine/cleanup";
import { BINARY, runBinary, TEST_SCOPE } from "../helpers";
import { has32BitAbi, hostCompatStatuses } from "../docker/kernel-abi";

/** The doctor's sandboxes carry a scope of this test run's own (other runs share TEST_SCOPE). */
const SCOPE = `${TEST_SCOPE}-doctor-${process.pid}`;
const env = { ISOL8_SCOPE: SCOPE };
let work: string;
const run = (args: string[], extra: Record<string, string> = {}) =>
  runBinary(["doctor", ...args], { cwd: work, env: { ...env, ...extra }, timeoutMs: 300_000 });

beforeAll(() => {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);
  work = mkdtempSync(join(tmpdir(), "isol8-doctor-"));
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  // None of the doctor's sandboxes may be left. A one-shot `isol8 run` that ended clean lets
  // Docker remove its container after it exits (AutoRemove): give Docker a few seconds.
  const docker = createDockerClient();
  let left = await findContainers(docker, { scope: SCOPE });
  for (let i = 0; i < 50 && left.length; i++) {
    await Bun.sleep(200);
    left = await findContainers(docker, { scope: SCOPE });
  }
  expect(left).toEqual([]);
});

describe("isol8 doctor", () => {
  test("passes on this machine: one line per check, each must-have passes, exit 0", () => {
    const r = run([]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const name of ["Docker reachable", "Docker version", "runc", "cgroups", "seccomp", "user namespaces", "gVisor", "isol8 configuration", "images", "disk space"]) {
      expect(r.stdout).toMatch(new RegExp(`^(pass|warn|FAIL)  ${name}[ :(]`, "m"));
    }
    expect(r.stdout).not.toContain("FAIL");
    expect(r.stdout).toMatch(/^\d+ passed, \d+ warning\(s\), 0 failed$/m);
  }, 60_000);

  test("--json prints exactly one document with every check and its fix", () => {
    const r = run(["--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string; required: boolean; detail: string; fix?: string }[] };
    expect(doc.ok).toBe(true);
    expect(doc.checks.map((c) => c.name)).toContain("runc");
    for (const check of doc.checks) {
      expect(["pass", "warn", "fail"]).toContain(check.status);
      if (check.status !== "pass") expect(check.fix).toBeString();
    }
  }, 60_000);

  test("a must-have that fails exits 1 and prints its fix (Docker not reachable)", () => {
    const r = run(["--json"], { DOCKER_HOST: `unix://${join(work, "no-docker.sock")}` });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string; fix?: string }[] };
    expect(doc.ok).toBe(false);
    expect(doc.checks.find((c) => c.name === "Docker reachable")).toMatchObject({ status: "fail", fix: expect.stringContaining("start Docker") });
  }, 60_000);

  test("--isolation without --attack is a usage error", () => {
    const r = run(["--isolation", "gvisor"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Cannot use --isolation without --attack");
  });
});

describe("isol8 doctor --attack", () => {
  const CASES = [
    "capabilities",
    "mounts and namespaces",
    "ptrace of root processes",
    "raw and foreign sockets",
    "32-bit and x32 system calls",
    "/proc secrets",
    "device access",
    "pool leak canaries",
    "metadata and private addresses through the proxy",
    "DNS and routes around the proxy",
    "clock changes",
    "system-call allowlist",
  ];

  test("passes under runc and gVisor: one pass line per case and runtime", () => {
    const r = run(["--attack", "--isolation", "runc,gvisor"]);
    expect(r.stdout).not.toContain("FAIL");
    expect(r.code).toBe(0);
    for (const isolation of ["runc", "gvisor"]) {
      for (const name of CASES) expect(r.stdout).toContain(`pass  ${name} [${isolation}]: `);
    }
  }, 300_000);

  test("a sabotaged configuration (seccomp unconfined) fails the battery, naming what got through", () => {
    const config = join(work, "unconfined.json");
    writeFileSync(config, JSON.stringify({ security: { seccomp: "unconfined" } }));
    const r = run(["--attack", "--json"], { ISOL8_CONFIG: config });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; attacks: { name: string; status: string; detail: string }[] };
    expect(doc.ok).toBe(false);
    const failed = doc.attacks.filter((a) => a.status === "fail").map((a) => a.name);
    // Without the profile a 32-bit call gets through only where the kernel has that ABI.
    const compat = "32-bit and x32 system calls [runc]";
    const host32 = has32BitAbi(hostCompatStatuses());
    expect(failed).toEqual(expect.arrayContaining(["capabilities [runc]", ...(host32 ? [compat] : []), "system-call allowlist [runc]"]));
    if (!host32) expect(doc.attacks.find((a) => a.name === compat)?.detail).toContain("not executable (the kernel has no 32-bit ABI)");
    expect(doc.attacks.find((a) => a.name === "capabilities [runc]")?.detail).toContain("Seccomp is 0");
  }, 300_000);
});

describe("isol8 run --isolation", () => {
  const release = `import os; print(os.uname().release)`;
  const runIn = (isolation: string) => runBinary(["run", "--isolation", isolation, "-e", release], { cwd: work, env, timeoutMs: 120_000 });

  test("gvisor: the README's command prints gVisor's kernel release, not the host's", () => {
    const r = runIn("gvisor");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("4.4.0");
    expect(r.stdout.trim()).not.toBe(hostRelease());
  }, 120_000);

  test("still works: runc prints the host's kernel release", () => {
    const r = runIn("runc");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(hostRelease());
  }, 120_000);
});
