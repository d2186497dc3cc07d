/**
 * isol8's own failures. Outcomes of user code (exit codes, timeouts, OOM kills,
 * truncation) are never errors: they are fields of the execution result.
 *
 * Messages follow `Cannot <action> "<value>": <current state>`; `hint` says what to do.
 */
export class Isol8Error extends Error {
  override name = "Isol8Error";
  /** Exit code the CLI uses for this failure. */
  readonly exitCode: number = 125;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Invalid configuration file or value (CLI exit 2). */
export class ConfigError extends Isol8Error {
  override name = "ConfigError";
  override readonly exitCode = 2;
}

/** Invalid command-line usage (CLI exit 2). */
export class UsageError extends Isol8Error {
  override name = "UsageError";
  override readonly exitCode = 2;
}

/** An execution request that fails validation; `field` names the offending field. */
export class RequestError extends Isol8Error {
  override name = "RequestError";
  override readonly exitCode = 2;
  constructor(
    message: string,
    readonly field?: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/** The Docker daemon cannot be reached. */
export class DockerUnavailableError extends Isol8Error {
  override name = "DockerUnavailableError";
}

/** A sandbox image is missing and could not be built. */
export class ImageError extends Isol8Error {
  override name = "ImageError";
}

/** A request conflicts with the state it addresses (e.g. another runtime on a persistent container). */
export class ConflictError extends Isol8Error {
  override name = "ConflictError";
}

/** The sandbox container or its supervisor failed (not the user's program). */
export class SandboxError extends Isol8Error {
  override name = "SandboxError";
}

/**
 * A persistent session's container is gone (removed, killed, or unresponsive past a
 * deadline): its files and state are lost. The next request starts a new container.
 */
export class SessionLostError extends Isol8Error {
  override name = "SessionLostError";
}

/** Why a file operation on a sandbox path was refused (the path itself was valid). */
export type FileErrorReason =
  | "not-found"
  | "outside-sandbox"
  | "not-regular-file"
  | "symlink"
  | "permission-denied"
  | "too-large";

/**
 * A file operation refused for what is at the path (missing, a symlink out of /sandbox, a
 * FIFO or device, a symlink where a file is written, no permission for the sandbox user,
 * over the size limit). The caller's
 * problem, never the sandbox's: a server answers 4xx, never a retryable 5xx.
 */
export class FileError extends Isol8Error {
  override name = "FileError";
  override readonly exitCode = 2;
  constructor(
    readonly reason: FileErrorReason,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/** One line for a user: the message, then the hint on its own line when there is one. */
export function formatError(error: unknown): string {
  if (error instanceof Isol8Error) return error.hint ? `${error.message}\nhint: ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
