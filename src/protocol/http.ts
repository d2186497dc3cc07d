// Bodies of the HTTP API (isol8 serve), shared by the server and RemoteIsol8.
import * as v from "valibot";
import { RequestError } from "../errors";
import { type ExecutionRequest, ExecutionRequestSchema } from "./execution";
import { LIMIT_NAMES } from "./limits";
import { Base64Schema } from "./base64";
import { RUNTIME_NAMES } from "../runtimes/registry";

export const SessionIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{1,128}$/, "must be 1-128 characters of A-Z a-z 0-9 _ . -"));

/** Request fields a client may also send in `options` (a documented alias, kept for older clients). */
const OPTION_FIELDS = [...LIMIT_NAMES, "network", "image", "security"] as const;

/** `options`: the same fields, with the same schemas, as in `request`. */
export const ExecuteOptionsSchema = v.pick(ExecutionRequestSchema, OPTION_FIELDS);

export const ExecuteBodySchema = v.strictObject({
  request: ExecutionRequestSchema,
  options: v.optional(ExecuteOptionsSchema),
  sessionId: v.optional(SessionIdSchema),
});

/** A file path of the file API (confined to /sandbox by the engine; bounded here). */
export const FilePathSchema = v.pipe(v.string(), v.minLength(1, "required"), v.maxLength(4096, "at most 4096 characters"));

export const PutFileBodySchema = v.strictObject({
  sessionId: SessionIdSchema,
  path: FilePathSchema,
  /** The file's bytes in base64. */
  content: Base64Schema,
});

/** `GET /file?sessionId=...&path=...` */
export const GetFileQuerySchema = v.strictObject({ sessionId: SessionIdSchema, path: FilePathSchema });

export const CleanupBodySchema = v.strictObject({ images: v.optional(v.boolean()) });

/**
 * `POST /sessions`: creates a session (a persistent container, started on first use) with
 * this id (default: a new random one), bound to `runtime` (default: that of its first execution,
 * python for file work before any). Creating an id the caller already has returns it unchanged.
 */
export const CreateSessionBodySchema = v.strictObject({
  id: v.optional(SessionIdSchema),
  runtime: v.optional(v.picklist(RUNTIME_NAMES)),
});

/** The answer of `POST /sessions`. */
export interface CreatedSession {
  id: string;
  /** The runtime it is bound to, or null until its first use decides. */
  runtime: string | null;
  /** False when the caller already had a session of this id. */
  created: boolean;
}

export type ExecuteBody = v.InferOutput<typeof ExecuteBodySchema>;
export type ExecuteBodyOptions = v.InferOutput<typeof ExecuteOptionsSchema>;

/**
 * The one request an execute body states: `request` with `options` merged in. Each field is
 * stated once: a field in both is refused (RequestError naming `options.<field>`).
 */
export function requestOfBody(body: ExecuteBody): ExecutionRequest {
  const options = body.options ?? {};
  for (const [field, value] of Object.entries(options)) {
    if (value !== undefined && (body.request as Record<string, unknown>)[field] !== undefined) {
      throw new RequestError(`Invalid request: options.${field}: also set in request (state each field once)`, `options.${field}`);
    }
  }
  return { ...body.request, ...options };
}
