// isol8's own failures and policy refusals as MCP errors (JSON-RPC errors, not tool results):
// the message a person or model can act on, and as `data` the same detail the HTTP API puts in
// its error body (`{ code, message, field?, reason?, retryable? }`).
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { DockerUnavailableError, formatError, Isol8Error, SandboxError } from "../errors";
import { ERROR_CODES, type ErrorDetail, errorOfIsol8, parseErrorBody } from "../protocol/errors";

/** Codes that say the request was wrong or refused (the caller can fix it): InvalidParams; the rest are InternalError. */
const CALLER_CODES = new Set<ErrorDetail["code"]>([
  "invalid-request",
  "policy-denied",
  "forbidden",
  "not-found",
  "file-refused",
  "conflict",
  "payload-too-large",
]);

const isErrorCode = (value: unknown): value is ErrorDetail["code"] => typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);

/**
 * The error detail of a failure: a server refusal carries its body (`body`), a remote server's
 * failure its `code`, one of isol8's own failures its class; anything else is `internal`.
 * `mask` hides the details of Docker and sandbox failures, as the HTTP API does.
 */
export function failureDetail(error: unknown, mask: boolean): ErrorDetail | null {
  const body = (error as { body?: unknown } | null)?.body;
  const refusal = body === undefined ? null : parseErrorBody({ error: body });
  if (refusal) return refusal;
  if (!(error instanceof Isol8Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (isErrorCode(code)) return { code, message: formatError(error) };
  const { detail } = errorOfIsol8(error);
  if (mask && error instanceof DockerUnavailableError) detail.message = "container runtime unavailable";
  if (mask && error instanceof SandboxError) detail.message = "sandbox terminated";
  return detail;
}

/**
 * The JSON-RPC error a tool call answers with (the SDK sends `code`, `message` and `data` of
 * what a handler throws; its McpError would put "MCP error <code>:" into the message itself,
 * and the client adds it again).
 */
export class ToolCallError extends Error {
  override name = "ToolCallError";
  constructor(
    readonly code: number,
    message: string,
    readonly data: ErrorDetail,
  ) {
    super(message);
  }
}

/** A failure as the MCP error to answer; `unexpected` is told of failures that are not isol8's (a bug: logged, never shown). */
export function toMcpError(error: unknown, options: { mask: boolean; unexpected(error: unknown): void }): ToolCallError {
  if (error instanceof ToolCallError) return error;
  const detail = failureDetail(error, options.mask);
  if (!detail) {
    options.unexpected(error);
    return new ToolCallError(ErrorCode.InternalError, "internal error", { code: "internal", message: "internal error" });
  }
  return new ToolCallError(CALLER_CODES.has(detail.code) ? ErrorCode.InvalidParams : ErrorCode.InternalError, detail.message, detail);
}
