// The error body of the HTTP API and THE table between its codes and isol8's error classes:
// the server finds a failure's code here, RemoteIsol8 finds the class to throw for a code here,
// so an error crosses HTTP with its type (and its `field` or `reason`) intact.
import * as v from "valibot";
import {
  ConflictError,
  DockerUnavailableError,
  FileError,
  type FileErrorReason,
  formatError,
  ImageError,
  Isol8Error,
  RequestError,
  SandboxError,
  SessionLostError,
} from "../errors";
import { QUOTA_NAMES } from "./tenancy";

/** Every code an error body may carry. */
export const ERROR_CODES = [
  "invalid-request",
  "unauthorized",
  "forbidden",
  "policy-denied",
  "not-found",
  "file-refused",
  "method-not-allowed",
  "conflict",
  "session-lost",
  "payload-too-large",
  "unsupported-media-type",
  "too-many-requests",
  "quota-exceeded",
  "misdirected",
  "unavailable",
  "docker-unavailable",
  "image-unavailable",
  "sandbox-failed",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The status of each refused file operation: all the caller's problem (4xx), never a
 * retryable 5xx. A path that is not a regular file (FIFO, device, directory) is a bad
 * request (400), like a path out of /sandbox; a symlink where a file is written is a
 * conflict with what the program left there (409); a file the sandbox user may not open is 403.
 */
export const FILE_ERROR_STATUS: { readonly [R in FileErrorReason]: number } = {
  "not-found": 404,
  "outside-sandbox": 400,
  "not-regular-file": 400,
  symlink: 409,
  "permission-denied": 403,
  "too-large": 413,
};

/** Every FileError reason (from the mapped table above, so none is missing). */
const FILE_ERROR_REASONS = Object.keys(FILE_ERROR_STATUS) as [FileErrorReason, ...FileErrorReason[]];

/** `{ error: { code, message, field?, reason?, retryable? } }`: every failure of the HTTP API. */
export const ErrorBodySchema = v.strictObject({
  error: v.strictObject({
    code: v.pipe(v.picklist(ERROR_CODES), v.description("What kind of failure (stable; clients branch on it)")),
    message: v.pipe(v.string(), v.description("One line (or a line and a hint) for a person")),
    field: v.optional(v.pipe(v.string(), v.description("invalid-request, policy-denied: the request field at fault (a dot path)"))),
    reason: v.optional(v.pipe(v.picklist(FILE_ERROR_REASONS), v.description("file-refused: why the file operation was refused"))),
    retryable: v.optional(v.pipe(v.boolean(), v.description("The same request may succeed later (see Retry-After)"))),
    quota: v.optional(v.pipe(v.picklist(QUOTA_NAMES), v.description("quota-exceeded: the key's quota that was reached"))),
  }),
});
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>;
export type ErrorDetail = ErrorBody["error"];

/** One row: the code's usual status and, for failures of the library, the class that stands for it. */
interface ErrorRow {
  status: number;
  /** The library's class: the server gives its instances this code, RemoteIsol8 throws it for this code. */
  type?: abstract new (...args: never[]) => Isol8Error;
  /** Builds the library error from a body (RemoteIsol8). */
  create?(detail: ErrorDetail, message: string): Isol8Error;
  retryable?: boolean;
}

/**
 * THE mapping. Rows with a `type` are tried in this order with `instanceof` (subclasses before
 * Isol8Error, which closes the list as `internal`).
 */
export const ERROR_TABLE: { readonly [C in ErrorCode]: ErrorRow } = {
  "invalid-request": { status: 400, type: RequestError, create: (detail, message) => new RequestError(message, detail.field) },
  "file-refused": {
    status: 400,
    type: FileError,
    create: (detail, message) => new FileError(detail.reason ?? "not-found", message),
  },
  conflict: { status: 409, type: ConflictError, create: (_detail, message) => new ConflictError(message) },
  "session-lost": { status: 410, type: SessionLostError, create: (_detail, message) => new SessionLostError(message, "the next request starts a new container") },
  "docker-unavailable": { status: 503, type: DockerUnavailableError, retryable: true, create: (_d, message) => new DockerUnavailableError(message) },
  "image-unavailable": { status: 503, type: ImageError, retryable: true, create: (_d, message) => new ImageError(message) },
  "sandbox-failed": { status: 503, type: SandboxError, retryable: true, create: (_d, message) => new SandboxError(message, "run it again") },
  internal: { status: 500, type: Isol8Error },
  unauthorized: { status: 401 },
  forbidden: { status: 403 },
  "policy-denied": { status: 403 },
  "not-found": { status: 404 },
  "method-not-allowed": { status: 405 },
  "payload-too-large": { status: 413 },
  "unsupported-media-type": { status: 415 },
  "too-many-requests": { status: 429 },
  "quota-exceeded": { status: 429, retryable: true },
  misdirected: { status: 421 },
  unavailable: { status: 503, retryable: true },
};

/** Codes with a library class, in the order `instanceof` tries them. */
const TYPED_CODES = (Object.keys(ERROR_TABLE) as ErrorCode[]).filter((code) => ERROR_TABLE[code].type);

/** The code and status of one of isol8's own failures (an Isol8Error subclass), with its details. */
export function errorOfIsol8(error: Isol8Error): { status: number; detail: ErrorDetail } {
  const code = TYPED_CODES.find((c) => error instanceof ERROR_TABLE[c].type!) ?? "internal";
  const row = ERROR_TABLE[code];
  const detail: ErrorDetail = { code, message: formatError(error) };
  if (error instanceof RequestError && error.field !== undefined) detail.field = error.field;
  if (error instanceof FileError) detail.reason = error.reason;
  if (row.retryable) detail.retryable = true;
  const status = error instanceof FileError ? FILE_ERROR_STATUS[error.reason] : row.status;
  return { status, detail };
}

/**
 * The library error a body stands for (RequestError with `field`, FileError with `reason`, ...),
 * or null when its code has no library class (auth, routing, limits: the caller's RemoteError).
 */
export function isol8ErrorOfBody(detail: ErrorDetail, message: string): Isol8Error | null {
  return ERROR_TABLE[detail.code].create?.(detail, message) ?? null;
}

/** A body as an error detail, or null when it is not one (a proxy's page, an older server). */
export function parseErrorBody(body: unknown): ErrorDetail | null {
  const parsed = v.safeParse(ErrorBodySchema, body);
  return parsed.success ? parsed.output.error : null;
}
