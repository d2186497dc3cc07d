import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditConfig, prepared, resultOf } from "../../../test/audit-fixtures";
import { Isol8Error, SandboxError } from "../../errors";
import type { PreparedExecution } from "../prepare";
import type { ExecutionResult } from "../../protocol/execution";
import type { RunHandlers } from "../execution/handlers";
import { type AuditLog, type AuditLogOptions, createAuditLog } from "./audit-log";

let dir: string;
let logs: AuditLog[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "isol8-audit-"));
  logs = [];
});
afterEach(async () => {
  for (const log of logs) {
    log.close();
    await log.idle();
  }
  rmSync(dir, { recursive: true, force: true });
});

const clock = () => new Date("2026-11-26T10:00:00.000Z");
const TODAY = "audit-2026-11-26.jsonl";

/** An audit log under test; errors are collected instead of printed. */
function auditLog(config: Parameters<typeof auditConfig>[0] = {}, io: Partial<AuditLogOptions> = {}) {
  const errors: Isol8Error[] = [];
  const inspected: string[] = [];
  const log = createAuditLog({
    config: auditConfig({ logDir: join(dir, "logs"), ...config }),
    inspectImage: async (ref) => {
      inspected.push(ref);
      return { id: `sha256:${ref.length}` };
    },
    onError: (error) => errors.push(error),
    now: clock,
    ...io,
  });
  logs.push(log);
  return { log, errors, inspected };
}

const collected: RunHandlers = { collect: true };
const finish = (p: PreparedExecution, fields: Partial<ExecutionResult> = {}) => async () => resultOf(p, fields);
const lines = (file = join(dir, "logs", TODAY)) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("filesystem destination", () => {
  test("one JSON line per execution in today's file; the directory is created when missing", async () => {
    const { log, errors } = auditLog();
    const p = prepared();
    const result = await log.run(p, collected, {}, finish(p));
    await log.run(p, collected, {}, finish(p, { exitCode: 3 }));
    expect(result.exitCode).toBe(0);
    expect(readdirSync(join(dir, "logs"))).toEqual([TODAY]);
    expect(lines().map((r) => [r.executionId, r.exitCode, r.outcome])).toEqual([
      [p.executionId, 0, "exited"],
      [p.executionId, 3, "exited"],
    ]);
    expect(errors).toEqual([]);
  });

  test("the alias destination file behaves as filesystem", async () => {
    const { log } = auditLog({ destination: "file" });
    const p = prepared();
    await log.run(p, collected, {}, finish(p));
    expect(lines()).toHaveLength(1);
  });

  test("concurrent executions never interleave within a line", async () => {
    const { log } = auditLog({ includeOutput: true });
    const runs = Array.from({ length: 40 }, (_, i) => {
      const p = prepared();
      return log.run(p, collected, {}, finish(p, { stdout: `${i}`.repeat(20_000) }));
    });
    await Promise.all(runs);
    const records = lines();
    expect(records).toHaveLength(40);
    expect(new Set(records.map((r) => (r.stdout as string).length)).size).toBeGreaterThan(1);
  });

  test("isol8's own failure is recorded as outcome error and rethrown unchanged", async () => {
    const { log } = auditLog();
    const failure = new SandboxError("Cannot run the program: supervisor gone");
    const p = prepared();
    await expect(log.run(p, collected, {}, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(lines()).toMatchObject([{ executionId: p.executionId, outcome: "error", error: failure.message, exitCode: null }]);
  });

  test("the session id and principal of the context are recorded", async () => {
    const { log } = auditLog();
    const p = prepared();
    await log.run(p, collected, { sessionId: "s1", principal: "alice" }, finish(p));
    expect(lines()[0]).toMatchObject({ sessionId: "s1", principal: "alice" });
  });

  test("the image id is looked up once per image reference", async () => {
    const { log, inspected } = auditLog();
    const python = prepared();
    const bash = prepared({ runtime: "bash", code: "echo" });
    for (const p of [python, python, bash, python, bash]) await log.run(p, collected, {}, finish(p));
    expect(inspected).toEqual(["isol8:python", "isol8:bash"]);
    expect(lines().map((r) => (r.image as { id: string }).id)).toEqual(["sha256:12", "sha256:12", "sha256:10", "sha256:12", "sha256:10"]);
  });
});

describe("streamed executions", () => {
  test("includeOutput records what was passed on; the caller still receives every chunk", async () => {
    const { log } = auditLog({ includeOutput: true });
    const p = prepared();
    const seen: string[] = [];
    const handlers: RunHandlers = { collect: false, onStdout: (t) => seen.push(`out:${t}`), onStderr: (t) => seen.push(`err:${t}`) };
    await log.run(p, handlers, {}, async (teed) => {
      teed.onStdout?.("a\n");
      teed.onStderr?.("oops\n");
      teed.onStdout?.("b\n");
      return resultOf(p, { stdout: "", stderr: "" });
    });
    expect(seen).toEqual(["out:a\n", "err:oops\n", "out:b\n"]);
    expect(lines()[0]).toMatchObject({ stdout: "a\nb\n", stderr: "oops\n" });
  });

  test("without includeOutput the handlers are passed through untouched", async () => {
    const { log } = auditLog();
    const p = prepared();
    const handlers: RunHandlers = { collect: false, onStdout: () => {} };
    let given: RunHandlers | undefined;
    await log.run(p, handlers, {}, async (h) => ((given = h), resultOf(p)));
    expect(given).toBe(handlers);
  });
});

describe("stdout destination", () => {
  test("one line per record to the writer; nothing on disk", async () => {
    const written: string[] = [];
    const { log } = auditLog({ destination: "stdout" }, { write: (line) => written.push(line) });
    const p = prepared({ metadata: { userId: '\n{"forged":true}' } });
    await log.run(p, collected, {}, finish(p));
    expect(written).toHaveLength(1);
    expect(written[0]!.endsWith("\n")).toBe(true);
    expect(written[0]!.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(written[0]!)).toMatchObject({ executionId: p.executionId, metadata: { userId: '\n{"forged":true}' } });
    expect(existsSync(join(dir, "logs"))).toBe(false);
  });
});

describe("an unwritable sink", () => {
  test("gives one clear error per failed write and never loses the result", async () => {
    writeFileSync(join(dir, "blocker"), "a file where the log directory should be");
    const { log, errors } = auditLog({ logDir: join(dir, "blocker", "logs") });
    const p = prepared();
    const first = await log.run(p, collected, {}, finish(p, { stdout: "still here\n" }));
    const second = await log.run(p, collected, {}, finish(p, { exitCode: 3 }));
    expect(first.stdout).toBe("still here\n");
    expect(second.exitCode).toBe(3);
    expect(errors).toHaveLength(2);
    expect(errors[0]!.message).toBe(`Cannot create the audit log directory "${join(dir, "blocker", "logs")}": a file is in the way of the directory (ENOTDIR)`);
    expect(errors[0]!.hint).toContain("audit.logDir");
  });

  test("a read-only log file is reported with its path", async () => {
    if (process.getuid?.() === 0) {
      // root ignores file modes: a directory in place of today's file fails the write instead.
      mkdirSync(join(dir, "logs", TODAY), { recursive: true });
    } else {
      mkdirSync(join(dir, "logs"));
      writeFileSync(join(dir, "logs", TODAY), "");
      chmodSync(join(dir, "logs", TODAY), 0o400);
    }
    const { log, errors } = auditLog();
    const p = prepared();
    expect((await log.run(p, collected, {}, finish(p))).exitCode).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toStartWith(`Cannot write the audit log "${join(dir, "logs", TODAY)}": `);
  });

  test("with audit.required the execution is refused before it runs", async () => {
    writeFileSync(join(dir, "blocker"), "");
    const { log } = auditLog({ logDir: join(dir, "blocker"), required: true });
    let ran = false;
    const p = prepared();
    const refused = log.run(p, collected, {}, async () => ((ran = true), resultOf(p)));
    await expect(refused).rejects.toBeInstanceOf(Isol8Error);
    await expect(refused).rejects.toThrow(/^Cannot run the execution: no audit record can be written \(audit.required is true\): Cannot create the audit log directory/);
    expect(ran).toBe(false);
  });

  test("still works: with audit.required and a writable directory the execution runs and is recorded", async () => {
    const { log } = auditLog({ required: true });
    const p = prepared();
    expect((await log.run(p, collected, {}, finish(p))).exitCode).toBe(0);
    expect(lines()).toHaveLength(1);
  });
});

describe("retention", () => {
  test("at start, a file older than retentionDays is deleted and today's is kept", async () => {
    mkdirSync(join(dir, "logs"));
    for (const name of [TODAY, "audit-2026-11-20.jsonl", "audit-2026-10-01.jsonl"]) writeFileSync(join(dir, "logs", name), "{}\n");
    const { log, errors } = auditLog({ retentionDays: 7 });
    await log.idle();
    expect(readdirSync(join(dir, "logs")).sort()).toEqual(["audit-2026-11-20.jsonl", TODAY]);
    expect(errors).toEqual([]);
  });

  test("the stdout destination touches no directory", async () => {
    mkdirSync(join(dir, "logs"));
    writeFileSync(join(dir, "logs", "audit-2000-01-01.jsonl"), "{}\n");
    const { log } = auditLog({ destination: "stdout", retentionDays: 1 }, { write: () => {} });
    await log.idle();
    expect(readdirSync(join(dir, "logs"))).toEqual(["audit-2000-01-01.jsonl"]);
  });
});

describe("postLogScript", () => {
  function script(body: string): string {
    const path = join(dir, "hook.sh");
    writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return path;
  }

  test("runs after a write with the log file's path as its only argument", async () => {
    const seen = join(dir, "seen");
    const { log, errors } = auditLog({ postLogScript: script(`printf '%s|' "$#" "$@" >> ${seen}`) });
    const p = prepared();
    await log.run(p, collected, {}, finish(p));
    await log.idle();
    expect(readFileSync(seen, "utf8")).toBe(`1|${join(dir, "logs", TODAY)}|`);
    expect(errors).toEqual([]);
  });

  test("a failing script is reported and changes nothing for the execution", async () => {
    const { log, errors } = auditLog({ postLogScript: script("echo 'upload refused' >&2; exit 4") });
    const p = prepared();
    expect((await log.run(p, collected, {}, finish(p))).exitCode).toBe(0);
    await log.idle();
    expect(errors.map((e) => e.message)).toEqual([`Cannot run audit.postLogScript "${join(dir, "hook.sh")}": exited with 4: upload refused`]);
    expect(lines()).toHaveLength(1);
  });

  test("a missing script is reported, not fatal", async () => {
    const { log, errors } = auditLog({ postLogScript: join(dir, "no-such-hook") });
    const p = prepared();
    expect((await log.run(p, collected, {}, finish(p))).exitCode).toBe(0);
    await log.idle();
    expect(errors.map((e) => e.message)).toEqual([`Cannot run audit.postLogScript "${join(dir, "no-such-hook")}": file not found`]);
  });

  test("executions do not wait for the script; a burst of writes is covered by at most two runs", async () => {
    const gate = join(dir, "gate");
    const count = join(dir, "count");
    // The script blocks until the test opens the gate, so any execution waiting for it would hang.
    const { log } = auditLog({ postLogScript: script(`echo run >> ${count}; while [ ! -e ${gate} ]; do sleep 0.01; done`) });
    const p = prepared();
    for (let i = 0; i < 5; i++) await log.run(p, collected, {}, finish(p));
    expect(lines()).toHaveLength(5);
    writeFileSync(gate, "");
    await log.idle();
    expect(readFileSync(count, "utf8")).toBe("run\nrun\n");
  });
});
