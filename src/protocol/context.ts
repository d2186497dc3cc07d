// Code-interpreter contexts: the shapes every interface speaks (library, HTTP, RemoteIsol8, CLI).
// A context is a long-lived interpreter inside a session's container; a cell is one piece of
// code run in it. Outcomes of the code (errors, interrupts, a lost context) are result fields.
import * as v from "valibot";
import { RequestError } from "../errors";
import { formatIssues } from "./issues";

/** Runtimes a context can run (every built-in runtime). */
export const CONTEXT_RUNTIMES = ["python", "node", "bun", "deno", "bash"] as const;
export type ContextRuntime = (typeof CONTEXT_RUNTIMES)[number];

/** MIME types a rich result may carry; `text/plain` is always there. Binary types are base64. */
export const RESULT_MIME_TYPES = [
  "text/plain",
  "text/html",
  "text/markdown",
  "text/latex",
  "image/png",
  "image/jpeg",
  "image/svg+xml",
  "application/json",
] as const;
export type ResultMimeType = (typeof RESULT_MIME_TYPES)[number];

/** One rich result: a MIME bundle (`text/plain` always; images base64). */
export type MimeBundle = { "text/plain": string } & Partial<Record<ResultMimeType, string>>;

/** What a driver may send as a result (untrusted: unknown MIME types are dropped, not trusted). */
export const DriverResultSchema = v.object({
  data: v.pipe(
    v.record(v.string(), v.string()),
    v.check((data) => typeof data["text/plain"] === "string", "must have text/plain"),
  ),
  truncated: v.optional(v.boolean()),
});

/** A structured error: the user's frames only. */
export const CellErrorSchema = v.object({
  name: v.pipe(v.string(), v.maxLength(1000)),
  value: v.string(),
  traceback: v.string(),
});
export type CellError = v.InferOutput<typeof CellErrorSchema>;

/** Why a context is gone: its next cell needs `restart()`. */
export const CONTEXT_LOST_REASONS = [
  "timeout",
  "cancelled",
  "memory-limit",
  "pids-limit",
  "exited",
  "protocol",
  "idle",
  "closed",
] as const;
export type ContextLostReason = (typeof CONTEXT_LOST_REASONS)[number];

/** A file created or changed under /sandbox by a cell or an execution. */
export interface Artifact {
  /** Path relative to /sandbox. */
  path: string;
  size: number;
  sha256: string;
  mimeType: string;
}

/** The result of one cell. */
export interface CellResult {
  /** Identifies the cell (for cancel). */
  executionId: string;
  contextId: string;
  /** `ok`: ran to its end; `error`: raised (see `error`); `lost`: the context is gone (see `contextLost`). */
  status: "ok" | "error" | "lost";
  stdout: string;
  stderr: string;
  /** Rich results in the order they were produced (display() calls, figures, the trailing expression's value). */
  results: MimeBundle[];
  error?: CellError;
  /** The cell was interrupted (its timeout, or cancel) and the interpreter recovered: its state is kept. */
  interrupted: boolean;
  /** Why the context was lost in this cell (its processes are gone; `restart()` starts it again). */
  contextLost?: { reason: ContextLostReason };
  truncated: { stdout: boolean; stderr: boolean; results: boolean };
  /** Files created or changed under /sandbox by this cell. */
  artifacts: Artifact[];
  durationMs: number;
}

/** Events of a streamed cell: `start` (its execution id), output and results as produced, then exactly one `done` (or `error`). */
export type CellEvent =
  | { type: "start"; data: { executionId: string } }
  | { type: "stdout"; data: string }
  | { type: "stderr"; data: string }
  | { type: "result"; data: MimeBundle }
  | { type: "done"; data: CellResult }
  | { type: "error"; data: string };

/** A context as listed. */
export interface ContextInfo {
  id: string;
  runtime: ContextRuntime;
  state: "ready" | "lost";
  lostReason?: ContextLostReason;
  createdAt: string;
  lastUsedAt: string;
  cells: number;
}

export const CreateContextRequestSchema = v.strictObject({
  runtime: v.optional(v.picklist(CONTEXT_RUNTIMES)),
  /** The session's image when it has none yet (default: the runtime's); a session keeps the image of its first use. */
  image: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(512))),
});
export type CreateContextRequest = v.InferInput<typeof CreateContextRequestSchema>;

/** Upper bound of a cell's timeout (the engine's config may allow less). */
export const MAX_CELL_TIMEOUT_MS = 3_600_000;

export const RunCellRequestSchema = v.strictObject({
  code: v.pipe(v.string(), v.maxLength(1_000_000, "at most 1000000 characters")),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_CELL_TIMEOUT_MS))),
});
export type RunCellRequest = v.InferInput<typeof RunCellRequestSchema>;

/** Validates a body against a schema; throws one RequestError naming the first bad field. */
export function validateContextBody<T extends v.GenericSchema>(schema: T, body: unknown): v.InferOutput<T> {
  const result = v.safeParse(schema, body);
  if (result.success) return result.output;
  const field = v.getDotPath(result.issues[0]!) ?? "request";
  throw new RequestError(`Invalid request: ${formatIssues(result.issues).join("; ")}`, field);
}

/** The result fields a collected cell's JSON has (HTTP, RemoteIsol8). */
export const CellResultSchema = v.object({
  executionId: v.string(),
  contextId: v.string(),
  status: v.picklist(["ok", "error", "lost"]),
  stdout: v.string(),
  stderr: v.string(),
  results: v.array(v.record(v.string(), v.string())),
  error: v.optional(CellErrorSchema),
  interrupted: v.boolean(),
  contextLost: v.optional(v.object({ reason: v.picklist(CONTEXT_LOST_REASONS) })),
  truncated: v.object({ stdout: v.boolean(), stderr: v.boolean(), results: v.boolean() }),
  artifacts: v.array(v.object({ path: v.string(), size: v.number(), sha256: v.string(), mimeType: v.string() })),
  durationMs: v.number(),
});

/** Per-cell options of `context.run()`. */
export interface CellOptions {
  /** The cell's budget; on expiry it is interrupted, and its context killed if it does not stop within the grace. */
  timeoutMs?: number;
  /** The cell's execution id as it starts (for cancel). */
  onStart?(executionId: string): void;
  onStdout?(data: string): void;
  onStderr?(data: string): void;
  /** Each rich result as produced (display(), figures, the trailing expression's value). */
  onResult?(bundle: MimeBundle): void;
  /** Interrupts the cell when aborted (like cancel). */
  signal?: AbortSignal;
  /** Who asked, for the audit record (set by the server; `client`: the MCP client's name). */
  audit?: { sessionId?: string; principal?: string; client?: string };
}

/** One code-interpreter context, local or remote. */
export interface Isol8Context {
  readonly id: string;
  readonly runtime: ContextRuntime;
  /** Runs one cell; cells of a context run one at a time, in call order. */
  run(code: string, options?: CellOptions): Promise<CellResult>;
  /** Kills the interpreter (its state is lost) and starts a fresh one under the same id. */
  restart(): Promise<void>;
  /** Kills the interpreter and forgets the context. */
  close(): Promise<void>;
  info(): ContextInfo | Promise<ContextInfo>;
}

/** What an engine with contexts offers (a persistent DockerIsol8, a RemoteIsol8 session). */
export interface Isol8Contexts {
  createContext(request?: CreateContextRequest): Promise<Isol8Context>;
  listContexts(): Promise<ContextInfo[]>;
  /** Interrupts the running cell with this execution id; false when no such cell runs. */
  cancel(executionId: string): Promise<boolean>;
}

export const CancelBodySchema = v.strictObject({
  executionId: v.pipe(v.string(), v.minLength(1), v.maxLength(100)),
});
