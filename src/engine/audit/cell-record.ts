import { createHash } from "node:crypto";
import type { CellResult, ContextRuntime } from "../../protocol/context";
import type { AuditContext } from "./audit-record";

/** One line of the audit log for a context cell (`kind: "cell"`; execution records have no kind). */
export interface CellAuditRecord {
  kind: "cell";
  executionId: string;
  contextId: string;
  timestamp: string;
  durationMs: number;
  runtime: ContextRuntime;
  codeHash: string;
  codeBytes: number;
  status: CellResult["status"];
  interrupted: boolean;
  contextLost?: string;
  errorName?: string;
  containerId: string | null;
  sessionId?: string;
  principal?: string;
  /** The MCP client that asked (its clientInfo.name). */
  client?: string;
  code?: string;
  stdout?: string;
  stderr?: string;
}

export interface CellAuditInput {
  runtime: ContextRuntime;
  code: string;
  result: CellResult;
  startedAt: Date;
  containerId: string | null;
  context: AuditContext;
  includeCode: boolean;
  includeOutput: boolean;
}

/** The audit record of one cell (pure). */
export function buildCellAuditRecord(input: CellAuditInput): CellAuditRecord {
  const { result } = input;
  return {
    kind: "cell",
    executionId: result.executionId,
    contextId: result.contextId,
    timestamp: input.startedAt.toISOString(),
    durationMs: result.durationMs,
    runtime: input.runtime,
    codeHash: createHash("sha256").update(input.code).digest("hex"),
    codeBytes: Buffer.byteLength(input.code),
    status: result.status,
    interrupted: result.interrupted,
    ...(result.contextLost ? { contextLost: result.contextLost.reason } : {}),
    ...(result.error ? { errorName: result.error.name } : {}),
    containerId: input.containerId,
    ...(input.context.sessionId ? { sessionId: input.context.sessionId } : {}),
    ...(input.context.principal ? { principal: input.context.principal } : {}),
    ...(input.context.client ? { client: input.context.client } : {}),
    ...(input.includeCode ? { code: input.code } : {}),
    ...(input.includeOutput ? { stdout: result.stdout, stderr: result.stderr } : {}),
  };
}
