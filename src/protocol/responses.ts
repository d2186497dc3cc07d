// Schemas of what the HTTP API answers, for its OpenAPI description (server/openapi.ts). The
// TypeScript types stay in execution.ts; the checks at the bottom fail to compile when a
// schema here and its type there drift apart.
import * as v from "valibot";
import { RUNTIME_NAMES } from "../runtimes/registry";
import { type ExecutionResult, type ExecutionSummary, PHASES, type StreamEvent } from "./execution";
import type { CreatedSession } from "./http";
import { CellResultSchema, CONTEXT_LOST_REASONS, CONTEXT_RUNTIMES, type CellEvent, type ContextInfo } from "./context";
import type { RuntimeInfo } from "./runtime-info";

const d = <S extends v.GenericSchema>(schema: S, text: string) => v.pipe(schema, v.description(text));
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const nullableCount = v.nullable(count);

export const ResourceUsageSchema = v.object({
  cpuTimeMs: d(v.number(), "CPU time (user + system) of every process of the execution, in ms"),
  peakMemoryBytes: d(count, "Peak resident memory of the largest process, in bytes"),
  stdoutBytes: d(count, "Bytes written to stdout (before capping)"),
  stderrBytes: d(count, "Bytes written to stderr (before capping)"),
  networkBytesIn: d(nullableCount, "Bytes through the proxy toward the sandbox; null without a network to count"),
  networkBytesOut: d(nullableCount, "Bytes through the proxy from the sandbox; null without a network to count"),
  killReason: d(v.nullable(v.picklist(["timeout", "memory-limit", "output-cap", "pids-limit", "aborted"])), "Why the engine stopped the program, if it did"),
});

export const NetworkLogEntrySchema = v.object({
  timestamp: d(v.string(), "When the request was read (ISO 8601)"),
  method: v.string(),
  host: d(v.string(), "Canonical host (lower-case, punycode), masked"),
  port: v.number(),
  path: d(v.nullable(v.string()), "Origin-form path with query, masked; null for CONNECT"),
  action: d(v.picklist(["ALLOW", "BLOCK"]), "ALLOW: the policy let it through"),
  reason: v.optional(d(v.string(), "Why it was refused or failed")),
  status: v.nullable(v.number()),
  durationMs: v.number(),
  bytesIn: v.number(),
  bytesOut: v.number(),
});

const PhaseTimingsSchema = v.object({
  queueMs: v.number(),
  acquireMs: v.number(),
  installMs: v.number(),
  runMs: v.number(),
  collectMs: v.number(),
});

const summaryEntries = {
  executionId: v.string(),
  runtime: v.picklist(RUNTIME_NAMES),
  timestamp: d(v.string(), "Start time, ISO 8601"),
  exitCode: d(v.number(), "The program's exit code; 128 + signal when killed"),
  durationMs: d(v.number(), "The whole execution, from the request to the result"),
  phases: d(PhaseTimingsSchema, "Milliseconds per phase (queue, acquire, install, run, collect)"),
  truncated: d(v.boolean(), "Output was cut at maxOutputSize"),
  timedOut: d(v.boolean(), "The time budget ran out (timeoutPhase says where)"),
  timeoutPhase: v.optional(v.picklist(PHASES)),
  oomKilled: v.boolean(),
  containerId: v.string(),
  files: v.optional(d(v.record(v.string(), v.string()), "outputPaths read back: path (as first spelled) → base64 content")),
  missingFiles: v.optional(d(v.array(v.string()), "outputPaths not read back: missing, unreadable, or over an output-file limit")),
  fileErrors: v.optional(d(v.record(v.string(), v.string()), "Why each path of missingFiles was not read back")),
  resourceUsage: ResourceUsageSchema,
  networkLogs: v.optional(d(v.array(NetworkLogEntrySchema), "Filtered network with logNetwork: one entry per request")),
  artifacts: v.optional(
    d(
      v.array(v.object({ path: v.string(), size: v.number(), sha256: v.string(), mimeType: v.string() })),
      "In a session: the files the execution created or changed under /sandbox",
    ),
  ),
};

export const ExecutionSummarySchema = v.object(summaryEntries);
const exactBytes = (stream: string) =>
  v.optional(d(v.string(), `The exact bytes of ${stream}, base64; present only when they are not valid UTF-8 (${stream} then has U+FFFD for the bad bytes)`));
export const ExecutionResultSchema = v.object({
  ...summaryEntries,
  stdout: v.string(),
  stderr: v.string(),
  stdoutBase64: exactBytes("stdout"),
  stderrBase64: exactBytes("stderr"),
});
const eventBytes = v.optional(d(v.string(), "The piece's exact bytes, base64; present only when they are not valid UTF-8"));

/** One event of a streamed execution (the JSON in each SSE `data:`); `exit` or `error` is last. */
export const StreamEventSchema = v.variant("type", [
  v.object({ type: v.literal("stdout"), data: v.string(), base64: eventBytes }),
  v.object({ type: v.literal("stderr"), data: v.string(), base64: eventBytes }),
  v.object({ type: v.literal("exit"), data: ExecutionSummarySchema }),
  v.object({ type: v.literal("error"), data: d(v.string(), "isol8's own failure, one line (and a hint)") }),
]);

export const HealthSchema = v.object({ status: v.picklist(["ok", "shutting down"]), version: v.string() });

export const ReadinessSchema = v.object({
  status: v.picklist(["ready", "not ready"]),
  reason: v.optional(d(v.string(), "The first failing check, e.g. `docker: ...`")),
  checks: v.record(v.string(), v.object({ ok: v.boolean(), detail: v.optional(v.string()) })),
});

export const SessionListSchema = v.object({
  sessions: v.array(
    v.object({
      id: v.string(),
      owner: v.optional(d(v.string(), "The owning key's principal (only in an admin's ?all=true listing)")),
      runtime: v.nullable(v.picklist(RUNTIME_NAMES)),
      containerId: v.nullable(v.string()),
      createdAt: v.string(),
      lastUsed: v.string(),
      active: d(v.boolean(), "An execution or file operation is using it now"),
    }),
  ),
});

export const FileContentSchema = v.object({ content: d(v.string(), "The file's bytes, base64") });
export const OkSchema = v.object({ ok: v.literal(true) });
export const DeletedSchema = v.object({ deleted: v.string() });
export const StoppedSchema = v.object({ stopped: d(v.boolean(), "The execution was running and is being stopped (false: it had ended)") });
export const CleanupResultSchema = v.object({ ok: v.literal(true), sessions: count, containers: count, images: count });

export const CreatedSessionSchema = v.object({
  id: v.string(),
  runtime: d(v.nullable(v.string()), "The runtime it is bound to, or null until its first use decides"),
  created: d(v.boolean(), "False when the caller already had a session of this id (answered 200, not 201)"),
});

export const RuntimeListSchema = v.object({
  runtimes: v.array(
    v.object({
      name: v.picklist(RUNTIME_NAMES),
      extensions: d(v.array(v.string()), "File extensions that select it; the first is the default for inline code"),
      image: v.string(),
      imageStatus: d(v.picklist(["present", "missing", "stale"]), "stale: built by another isol8 version (rebuilt on first use)"),
      versions: d(v.record(v.string(), v.string()), "Versions of the runtime packages in the image, from its labels"),
    }),
  ),
});

export const ContextInfoSchema = v.object({
  id: v.string(),
  runtime: v.picklist(CONTEXT_RUNTIMES),
  state: d(v.picklist(["ready", "lost"]), "lost: its interpreter is gone (lostReason says why); restart it or create another"),
  lostReason: v.optional(v.picklist(CONTEXT_LOST_REASONS)),
  createdAt: v.string(),
  lastUsedAt: v.string(),
  cells: d(v.number(), "Cells run in it so far"),
});
export const ContextAnswerSchema = v.object({ context: ContextInfoSchema });
export const ContextListSchema = v.object({ contexts: v.array(ContextInfoSchema) });
export const CancelledSchema = v.object({ cancelled: d(v.boolean(), "A cell with that execution id was running and is being interrupted") });

/** One event of a streamed cell (the JSON in each SSE `data:`); `done` or `error` is last. */
export const CellEventSchema = v.variant("type", [
  v.object({ type: v.literal("stdout"), data: v.string() }),
  v.object({ type: v.literal("stderr"), data: v.string() }),
  v.object({ type: v.literal("result"), data: d(v.record(v.string(), v.string()), "A rich result: MIME type → content (text, or base64 for images)") }),
  v.object({ type: v.literal("done"), data: CellResultSchema }),
  v.object({ type: v.literal("error"), data: d(v.string(), "isol8's own failure, one line (and a hint)") }),
]);

// Drift checks (types only): each schema's output must be exactly its type in execution.ts.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
// Optional fields pass a mutual-assignability check either way, so the key sets are compared too.
type Keys<T> = T extends unknown ? keyof T : never;
export type ResponseSchemasMatchTheirTypes = [
  Assert<Same<v.InferOutput<typeof ExecutionSummarySchema>, ExecutionSummary>>,
  Assert<Same<keyof v.InferOutput<typeof ExecutionSummarySchema>, keyof ExecutionSummary>>,
  Assert<Same<v.InferOutput<typeof ExecutionResultSchema>, ExecutionResult>>,
  Assert<Same<keyof v.InferOutput<typeof ExecutionResultSchema>, keyof ExecutionResult>>,
  Assert<Same<v.InferOutput<typeof StreamEventSchema>, StreamEvent>>,
  Assert<Same<Keys<v.InferOutput<typeof StreamEventSchema>>, Keys<StreamEvent>>>,
  Assert<Same<v.InferOutput<typeof CreatedSessionSchema>, CreatedSession>>,
  Assert<Same<v.InferOutput<typeof ContextInfoSchema>, ContextInfo>>,
  Assert<Same<keyof v.InferOutput<typeof ContextInfoSchema>, keyof ContextInfo>>,
  Assert<Same<Keys<v.InferOutput<typeof CellEventSchema>>, Keys<CellEvent>>>,
  Assert<Same<v.InferOutput<typeof RuntimeListSchema>["runtimes"][number], RuntimeInfo>>,
  Assert<Same<keyof v.InferOutput<typeof RuntimeListSchema>["runtimes"][number], keyof RuntimeInfo>>,
];
