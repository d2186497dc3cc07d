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
import { errorResponse, HttpError, json } from "./http";

/**
 * The status of each refused file operation: all the caller's problem (4xx), never a
 * retryable 5xx. A path that is not a regular file (FIFO, device, directory) is a bad
 * request (400), like a path out of /sandbox; a symlink where a file is written is a
 * conflict with what the program left there (409); a file the sandbox user may not open
 * is 403. (The index signature lets this table name a reason before errors.ts has it; the
 * mapped type makes the compiler ask for every reason errors.ts has.)
 */
export const FILE_ERROR_STATUS: { readonly [R in FileErrorReason]: number } & Readonly<Record<string, number>> = {
  "not-found": 404,
  "outside-sandbox": 400,
  "not-regular-file": 400,
  symlink: 409,
  "permission-denied": 403,
  "too-large": 413,
};

/**
 * Maps a failure to an HTTP answer: the client's mistakes are 4xx with a one-line message;
 * isol8's own failures that a retry may cure are 503 `retryable`; anything else is a bare 500
 * (logged, never shown).
 */
export function failureResponse(error: unknown, log: (line: string) => void): Response {
  if (error instanceof HttpError) return errorResponse(error);
  if (error instanceof RequestError) return json(400, { error: formatError(error), field: error.field });
  if (error instanceof FileError) return json(FILE_ERROR_STATUS[error.reason] ?? 400, { error: formatError(error), reason: error.reason });
  if (error instanceof ConflictError) return json(409, { error: error.message });
  if (error instanceof DockerUnavailableError) {
    log(formatError(error));
    return json(503, { error: "container runtime unavailable", retryable: true }, { "retry-after": "2" });
  }
  if (error instanceof ImageError) return json(503, { error: `runtime image unavailable: ${error.message}`, retryable: true });
  if (error instanceof SessionLostError) return json(410, { error: formatError(error) });
  if (error instanceof SandboxError) return json(503, { error: "sandbox terminated", retryable: true }, { "retry-after": "1" });
  if (error instanceof Isol8Error) return json(500, { error: error.message });
  log(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  return json(500, { error: "internal error" });
}
