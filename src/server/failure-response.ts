import { DockerUnavailableError, formatError, Isol8Error, SandboxError } from "../errors";
import { errorOfIsol8 } from "../protocol/errors";
import { errorResponse, HttpError } from "./http";

/** Seconds a client should wait before retrying, for the failures a retry may cure. */
const RETRY_AFTER: readonly [abstract new (...args: never[]) => Isol8Error, string][] = [
  [DockerUnavailableError, "2"],
  [SandboxError, "1"],
];

/**
 * Maps a failure to an HTTP answer in the one error shape: the client's mistakes are 4xx with a
 * one-line message; isol8's own failures get their code from protocol/errors.ts (those a retry
 * may cure are 503 `retryable`); anything else is a bare 500 `internal` (logged, never shown).
 */
export function failureResponse(error: unknown, log: (line: string) => void): Response {
  if (error instanceof HttpError) return errorResponse(error.status, error.body, error.headers);
  if (error instanceof Isol8Error) {
    const { status, detail } = errorOfIsol8(error);
    if (error instanceof DockerUnavailableError) {
      log(formatError(error));
      detail.message = "container runtime unavailable";
    }
    if (error instanceof SandboxError) detail.message = "sandbox terminated";
    const wait = RETRY_AFTER.find(([type]) => error instanceof type)?.[1];
    return errorResponse(status, detail, wait ? { "retry-after": wait } : {});
  }
  log(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  return errorResponse(500, { code: "internal", message: "internal error" });
}
