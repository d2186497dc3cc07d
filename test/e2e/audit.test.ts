// The audit log and the receipt through the compiled binary, as a user runs it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, runBinary, TEST_SCOPE } from "../helpers";

const MiB = 1024 * 1024;
const LONG_SECRET = "s3cr3t-Cli-Audit-9d41e7";
let work: string;

beforeAll(() => {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);
  work = mkdtempSync(join(tmpdir(), "isol8-e2e-audit-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A project directory holding `isol8.config.json` with this config. */
function project(name: string, config: unknown): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "isol8.config.json"), JSON.stringify(config));
  return dir;
}

// A project's isol8.config.json is named explicitly (trusted): its audit.logDir may not come
// from a file merely found in the working directory (see src/config/sensitive-keys.ts).
const run = (cwd: string, args: string[]) => {
  const file = join(cwd, "isol8.config.json");
  return runBinary(["run", ...args], { cwd, env: { ISOL8_SCOPE: TEST_SCOPE, ...(existsSync(file) ? { ISOL8_CONFIG: file } : {}) } });
};

/** The audit lines written under `dir`, raw and parsed. */
function auditLines(dir: string): { raw: string; record: Record<string, unknown> }[] {
  return readdirSync(dir)
    .flatMap((file) => readFileSync(join(dir, file), "utf8").split("\n"))
    .filter(Boolean)
    .map((raw) => ({ raw, record: JSON.parse(raw) }));
}

describe("isol8 run with audit.enabled", () => {
  test("three runs (ok, exit 3, timeout) leave three JSON lines under ./a with their outcomes and no code or output", () => {
    const cwd = project("plain", { audit: { enabled: true, logDir: "./a" } });
    const ok = run(cwd, ["-e", "print('visible-output')"]);
    const failed = run(cwd, ["-e", "import sys; sys.exit(3)"]);
    const timedOut = run(cwd, ["--timeout", "1000", "-e", "import time; time.sleep(60)"]);
    expect([ok.code, failed.code, timedOut.code]).toEqual([0, 3, 124]);
    expect(ok.stdout).toBe("visible-output\n");

    const files = readdirSync(join(cwd, "a"));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^audit-\d{4}-\d{2}-\d{2}\.jsonl$/);
    const lines = auditLines(join(cwd, "a"));
    expect(lines.map((l) => [l.record.outcome, l.record.exitCode])).toEqual([
      ["exited", 0],
      ["exited", 3],
      ["timeout", 137],
    ]);
    for (const { raw, record } of lines) {
      expect(record.code).toBeUndefined();
      expect(record.stdout).toBeUndefined();
      expect(record.stderr).toBeUndefined();
      expect(raw).not.toContain("visible-output");
      expect(raw).not.toContain("sys.exit");
      expect(record.codeHash).toMatch(/^[0-9a-f]{64}$/);
      expect(record.runtime).toBe("python");
    }
  }, 120_000);

  test("with includeCode and includeOutput, --secret T=v4lu (the shortest allowed) is recorded as ***, never v4lu", () => {
    const cwd = project("full", { audit: { enabled: true, logDir: "./a", includeCode: true, includeOutput: true } });
    const code = "import os, sys; print(os.environ['T']); print(os.environ['T'], file=sys.stderr)";
    const short = run(cwd, ["--secret", "T=v4lu", "-e", code]);
    const long = run(cwd, ["--secret", `T=${LONG_SECRET}`, "-e", code]);
    expect([short.code, long.code]).toEqual([0, 0]);
    expect(short.stdout).toBe("***\n");
    const lines = auditLines(join(cwd, "a"));
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.record).toMatchObject({ code, stdout: "***\n", stderr: "***\n", outcome: "exited" });
    expect(lines[1]!.raw).not.toContain(LONG_SECRET);
  }, 60_000);

  test("destination stdout: the record goes to stderr, stdout keeps only the program's output", () => {
    const cwd = project("stream", { audit: { enabled: true, destination: "stdout" } });
    const r = run(cwd, ["-e", "print('only this')"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("only this\n");
    const records = r.stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: "exited", exitCode: 0 });
    expect(existsSync(join(cwd, ".isol8_audit"))).toBe(false);
  }, 60_000);

  test("an unwritable log dir: one clear error on stderr, the program's output and exit code unchanged", () => {
    const cwd = project("blocked", { audit: { enabled: true, logDir: "./blocker/a" } });
    writeFileSync(join(cwd, "blocker"), "");
    const r = run(cwd, ["-e", "print('fine'); raise SystemExit(5)"]);
    expect(r.code).toBe(5);
    expect(r.stdout).toBe("fine\n");
    expect(r.stderr.match(/Cannot create the audit log directory/g)).toHaveLength(1);
  }, 60_000);

  test("audit.required with an unwritable log dir refuses to run", () => {
    const cwd = project("required", { audit: { enabled: true, required: true, logDir: "./blocker/a" } });
    writeFileSync(join(cwd, "blocker"), "");
    const r = run(cwd, ["-e", "print('must not run')"]);
    expect(r.code).toBe(125);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("audit.required is true");
  }, 60_000);
});

describe("receipts on the command line", () => {
  test("--json reports peak memory of at least 200 MiB for a 200 MiB allocation and under 50 MiB for hello world", () => {
    const hungry = run(work, ["--json", "-e", "x=bytearray(200*2**20)"]);
    const hello = run(work, ["--json", "-e", "print('hello')"]);
    expect(hungry.code).toBe(0);
    expect(hello.code).toBe(0);
    const hungryUsage = JSON.parse(hungry.stdout).resourceUsage;
    const helloUsage = JSON.parse(hello.stdout).resourceUsage;
    expect(hungryUsage.peakMemoryBytes).toBeGreaterThanOrEqual(200 * MiB);
    expect(helloUsage.peakMemoryBytes).toBeLessThan(50 * MiB);
    expect(Object.keys(helloUsage).sort()).toEqual(
      ["cpuTimeMs", "killReason", "networkBytesIn", "networkBytesOut", "peakMemoryBytes", "stderrBytes", "stdoutBytes"].sort(),
    );
  }, 60_000);

  test("--stats prints one summary line on stderr after the run; stdout is untouched", () => {
    const r = run(work, ["--stats", "-e", "print('hi')"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("hi\n");
    const lines = r.stderr.split("\n").filter((line) => line.startsWith("isol8: cpu "));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^isol8: cpu \d+ ms, peak memory \d+\.\d MiB, stdout 3 B, stderr 0 B, duration \d+ ms, kill reason none$/);
  }, 60_000);

  test("--stats names the kill reason of a timed-out run, and keeps --json's stdout one document", () => {
    const r = run(work, ["--stats", "--json", "--timeout", "1000", "-e", "while True: pass"]);
    expect(r.code).toBe(124);
    expect(JSON.parse(r.stdout).resourceUsage.killReason).toBe("timeout");
    expect(r.stderr).toMatch(/^isol8: cpu \d+ ms, .*, kill reason timeout$/m);
  }, 60_000);
});
