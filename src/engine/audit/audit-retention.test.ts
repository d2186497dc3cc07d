import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pruneAuditFiles } from "./audit-retention";
import { auditFileName } from "./audit-sink";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "isol8-retention-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const touch = (...names: string[]) => names.forEach((name) => writeFileSync(join(dir, name), "{}\n"));
const now = new Date("2026-11-26T10:00:00.000Z");

describe("pruneAuditFiles", () => {
  test("deletes a file older than retentionDays and keeps today's", async () => {
    touch("audit-2026-11-26.jsonl", "audit-2026-10-01.jsonl");
    expect(await pruneAuditFiles({ dir, retentionDays: 30, now })).toEqual(["audit-2026-10-01.jsonl"]);
    expect(readdirSync(dir)).toEqual(["audit-2026-11-26.jsonl"]);
  });

  test("a file is kept until every record in it is retentionDays old", async () => {
    // retentionDays 1 on Nov 26: the file of Nov 25 ends at Nov 26 00:00 (less than a day ago).
    touch("audit-2026-11-24.jsonl", "audit-2026-11-25.jsonl", "audit-2026-11-26.jsonl");
    expect(await pruneAuditFiles({ dir, retentionDays: 1, now })).toEqual(["audit-2026-11-24.jsonl"]);
    expect(readdirSync(dir).sort()).toEqual(["audit-2026-11-25.jsonl", "audit-2026-11-26.jsonl"]);
  });

  test("never deletes the file being written, nor files that are not daily audit files", async () => {
    touch("audit-2020-01-01.jsonl", "notes.txt", "audit-2020-01-01.jsonl.bak", "audit-latest.jsonl");
    const deleted = await pruneAuditFiles({ dir, retentionDays: 1, now, keep: join(dir, "audit-2020-01-01.jsonl") });
    expect(deleted).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(["audit-2020-01-01.jsonl", "audit-2020-01-01.jsonl.bak", "audit-latest.jsonl", "notes.txt"]);
  });

  test("a missing directory deletes nothing", async () => {
    expect(await pruneAuditFiles({ dir: join(dir, "missing"), retentionDays: 1, now })).toEqual([]);
  });

  test("daily file names follow the UTC date", () => {
    expect(auditFileName(new Date("2026-11-26T23:59:59.999Z"))).toBe("audit-2026-11-26.jsonl");
    expect(auditFileName(new Date("2026-11-27T00:00:00.000Z"))).toBe("audit-2026-11-27.jsonl");
  });
});
