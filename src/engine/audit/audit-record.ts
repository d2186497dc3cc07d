import { createHash } from "node:crypto";
import type { NetworkMode } from "../../protocol/execution";
import type { RuntimeName } from "../../runtimes/registry";
import type { PreparedExecution } from "../prepare";
import type { ExecutionResult, Phase, PhaseTimings, ResourceUsage } from "../../protocol/execution";

/** How an execution ended, as the audit log says it. */
export type AuditOutcome = "exited" | "timeout" | "oom" | "truncated" | "error";

/** Who asked for an execution (the server passes these; the CLI and library usually do not). */
export interface AuditContext {
  sessionId?: string;
  /** The authenticated caller, e.g. the name of an API key. */
  principal?: string;
  /** The HTTP request that asked for the execution (its X-Request-Id). */
  requestId?: string;
  /** The MCP client that asked (its clientInfo.name), for executions of MCP tools. */
  client?: string;
}

/** One line of the audit log. */
export interface AuditRecord {
  executionId: string;
  /** Start time, ISO 8601. */
  timestamp: string;
  durationMs: number;
  /** Where the time went (null when isol8 failed before a result). */
  phases: PhaseTimings | null;
  /** With outcome "timeout": the phase the budget ran out in. */
  timeoutPhase?: Phase;
  runtime: RuntimeName;
  /** The image reference and its id (null when it could not be looked up, e.g. a missing image). */
  image: { ref: string; id: string | null };
  /** SHA-256 (hex) of the code as run. */
  codeHash: string;
  codeBytes: number;
  /** Null when isol8 failed before the program ended. */
  exitCode: number | null;
  outcome: AuditOutcome;
  /** isol8's own failure (outcome "error"). */
  error?: string;
  limits: {
    timeoutMs: number;
    memoryBytes: number;
    cpu: number;
    pidsLimit: number;
    sandboxBytes: number;
    tmpBytes: number;
    maxOutputBytes: number;
  };
  network: NetworkMode;
  /** Filtered mode: the host patterns the execution was held to. */
  networkPolicy?: { allow: string[]; deny: string[] };
  /** Packages installed before the program ran. */
  installPackages?: string[];
  seccomp: "strict" | "custom" | "unconfined";
  containerId: string | null;
  sessionId?: string;
  principal?: string;
  /** The HTTP request that asked for the execution. */
  requestId?: string;
  /** The MCP client that asked (its clientInfo.name). */
  client?: string;
  metadata?: Record<string, unknown>;
  /** The receipt of the execution (null when it did not run to the end). */
  resourceUsage: ResourceUsage | null;
  /** `audit.includeCode` */
  code?: string;
  /** `audit.includeOutput`: the output as the caller saw it (secrets masked, capped). */
  stdout?: string;
  stderr?: string;
  /** Filtered mode with `logNetwork` only. */
  networkLogs?: unknown[];
}

/** A result as the audit log reads it: filtered networking may add `networkLogs`. */
export type AuditableResult = ExecutionResult<string | Uint8Array> & { networkLogs?: unknown[] };

/** What the audit log reads of a prepared execution (filtered networking adds `policy` and `install`). */
export type AuditablePrepared = PreparedExecution & {
  policy?: { allow: string[]; deny: string[]; logNetwork: boolean };
  install?: { packages: string[] };
};

export interface AuditRecordInput {
  prepared: AuditablePrepared;
  context: AuditContext;
  imageId: string | null;
  /** When the engine began the execution (used when there is no result). */
  startedAt: Date;
  elapsedMs: number;
  /** Exactly one of result / error. */
  result?: AuditableResult;
  error?: unknown;
  /** The output passed on while streaming (the result of a streamed run holds none). */
  output?: { stdout: string; stderr: string };
  includeCode: boolean;
  includeOutput: boolean;
}

/** The outcome of a finished execution; the order decides when several apply (a timeout also kills). */
export function outcomeOf(result: ExecutionResult<string | Uint8Array>): AuditOutcome {
  if (result.timedOut) return "timeout";
  if (result.oomKilled) return "oom";
  if (result.truncated) return "truncated";
  return "exited";
}

/** Builds the record of one execution. Pure: everything it needs is in the input. */
export function buildAuditRecord(input: AuditRecordInput): AuditRecord {
  const { prepared, result, context } = input;
  const { spec } = prepared;
  const record: AuditRecord = {
    executionId: prepared.executionId,
    timestamp: result?.timestamp ?? input.startedAt.toISOString(),
    durationMs: result?.durationMs ?? Math.round(input.elapsedMs),
    phases: result?.phases ?? null,
    ...(result?.timeoutPhase ? { timeoutPhase: result.timeoutPhase } : {}),
    runtime: prepared.runtime.name,
    image: { ref: spec.image, id: input.imageId },
    codeHash: createHash("sha256").update(prepared.code, "utf8").digest("hex"),
    codeBytes: Buffer.byteLength(prepared.code, "utf8"),
    exitCode: result ? result.exitCode : null,
    outcome: result ? outcomeOf(result) : "error",
    ...(result ? {} : { error: input.error instanceof Error ? input.error.message : String(input.error) }),
    limits: {
      timeoutMs: prepared.timeoutMs,
      memoryBytes: spec.memoryBytes,
      cpu: spec.cpu,
      pidsLimit: spec.pidsLimit,
      sandboxBytes: spec.sandboxBytes,
      tmpBytes: spec.tmpBytes,
      maxOutputBytes: prepared.maxOutputBytes,
    },
    network: prepared.network,
    ...(prepared.network === "filtered" && prepared.policy ? { networkPolicy: { allow: prepared.policy.allow, deny: prepared.policy.deny } } : {}),
    ...(prepared.install ? { installPackages: prepared.install.packages } : {}),
    seccomp: spec.seccomp.mode,
    containerId: result?.containerId ?? null,
    ...(context.sessionId !== undefined ? { sessionId: context.sessionId } : {}),
    ...(context.principal !== undefined ? { principal: context.principal } : {}),
    ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
    ...(context.client !== undefined ? { client: context.client } : {}),
    ...(prepared.metadata ? { metadata: prepared.metadata } : {}),
    resourceUsage: result?.resourceUsage ?? null,
  };
  if (input.includeCode) record.code = prepared.code;
  if (input.includeOutput && result) {
    record.stdout = input.output?.stdout ?? result.stdout;
    record.stderr = input.output?.stderr ?? result.stderr;
  }
  if (prepared.network === "filtered" && prepared.policy?.logNetwork === true && Array.isArray(result?.networkLogs)) {
    record.networkLogs = result.networkLogs;
  }
  return record;
}

// JSON.stringify escapes C0 controls, quotes and lone surrogates; these it leaves raw, and
// some log readers treat them as line breaks or terminal controls.
const UNSAFE = /[\u007f-\u009f\u2028\u2029]/g;
const escapeUnsafe = (json: string) => json.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/**
 * One JSON line (with its newline) for a record. Never throws and never yields more than
 * one line: caller data (metadata) that cannot be serialized (BigInt, cycles, throwing
 * toJSON) is replaced by a note saying why.
 */
export function serializeRecord(record: AuditRecord): string {
  let json: string;
  try {
    json = JSON.stringify(record);
  } catch (error) {
    const note = `metadata could not be serialized: ${(error as Error).message}`;
    json = JSON.stringify({ ...record, metadata: { unserializable: note } });
  }
  return `${escapeUnsafe(json)}\n`;
}
