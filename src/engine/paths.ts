import { posix } from "node:path";
import { RequestError } from "../errors";

/** The user's directory in every container: the working directory and the only writable tree. */
export const SANDBOX_DIR = "/sandbox";

/** The default name of the program file (plus the runtime's extension): what tracebacks and listings of /sandbox show. */
export const PROGRAM_BASENAME = "main";

/** Longest file name (one path component) Linux accepts, in bytes. */
const NAME_MAX = 255;
/** Longest path accepted, in bytes (below the kernel's 4096 with room for the frame). */
const PATH_MAX = 3999;

const HINT = "paths must stay inside /sandbox";

/**
 * Confines a user-supplied path to /sandbox. Accepts `/sandbox/x` or `x` (relative to
 * /sandbox); refuses `..` escapes, other absolute paths, /sandbox itself, NUL bytes and other
 * control characters, text that is not valid Unicode, a name (path component) over 255 bytes
 * and a path over 3999 bytes. Returns the path relative to /sandbox. Symlinks are checked in
 * the container, where every file operation resolves beneath /sandbox (see supervisor.c).
 */
export function toSandboxPath(path: string, field = "path"): string {
  if (typeof path !== "string" || path.length === 0) throw new RequestError(`Cannot use ${field} "${path}": empty path`, field);
  const shown = JSON.stringify(path);
  if (path.includes("\0")) throw new RequestError(`Cannot use ${field} ${shown}: contains a NUL byte`, field);
  if (/\p{Cc}/u.test(path)) {
    throw new RequestError(`Cannot use ${field} ${shown}: contains a control character`, field, "file names must be printable");
  }
  if (/\p{Cs}/u.test(path)) throw new RequestError(`Cannot use ${field} ${shown}: not valid Unicode (a lone surrogate)`, field);
  const absolute = path.startsWith("/") ? path : `${SANDBOX_DIR}/${path}`;
  if (absolute.split("/").includes("..")) throw new RequestError(`Cannot use ${field} "${path}": ".." is not allowed`, field, HINT);
  const normalized = posix.normalize(absolute);
  if (!normalized.startsWith(`${SANDBOX_DIR}/`) || normalized.length <= SANDBOX_DIR.length + 1) {
    throw new RequestError(`Cannot use ${field} "${path}": outside /sandbox`, field, HINT);
  }
  const relative = normalized.slice(SANDBOX_DIR.length + 1).replace(/\/+$/, "");
  if (Buffer.byteLength(relative) > PATH_MAX) throw new RequestError(`Cannot use ${field}: path too long`, field, `at most ${PATH_MAX} bytes`);
  const long = relative.split("/").find((name) => Buffer.byteLength(name) > NAME_MAX);
  if (long !== undefined) {
    throw new RequestError(
      `Cannot use ${field} "${path}": the name "${long.slice(0, 24)}…" is ${Buffer.byteLength(long)} bytes`,
      field,
      `a file or directory name is at most ${NAME_MAX} bytes`,
    );
  }
  return relative;
}
