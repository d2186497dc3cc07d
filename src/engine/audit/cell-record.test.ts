import { describe, expect, test } from "bun:test";
import type { CellResult } from "../../protocol/context";
import { buildCellAuditRecord, type CellAuditInput } from "./cell-record";

const result: CellResult = {
  executionId: "e1",
  contextId: "c1",
  status: "ok",
  stdout: "2\n",
  stderr: "",
  results: [],
  interrupted: false,
  truncated: { stdout: false, stderr: false, results: false },
  artifacts: [],
  durationMs: 3,
};

const input = (context: CellAuditInput["context"]): CellAuditInput => ({
  runtime: "python",
  code: "print(2)",
  result,
  startedAt: new Date(0),
  containerId: "abc",
  context,
  includeCode: false,
  includeOutput: false,
});

describe("buildCellAuditRecord", () => {
  test("who asked: session, principal and MCP client when given, absent otherwise", () => {
    expect(buildCellAuditRecord(input({ sessionId: "s1", principal: "key:ops", client: "claude-code" }))).toMatchObject({
      kind: "cell",
      sessionId: "s1",
      principal: "key:ops",
      client: "claude-code",
    });
    const bare = buildCellAuditRecord(input({}));
    expect(Object.keys(bare)).not.toContain("client");
    expect(Object.keys(bare)).not.toContain("principal");
  });
});
