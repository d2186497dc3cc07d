import { posix } from "node:path";
import { RequestError } from "../errors";
import { SANDBOX_DIR } from "./container-options";

/**
 * Confines a user-supplied path to /sandbox. Accepts `/sandbox/x` or `x` (relative to
 * /sandbox); refuses `..` escapes, other absolute paths, NUL bytes and /sandbox itself.
 * Returns the path relative to /sandbox. Symlinks are checked in the container, where
 * every file operation resolves beneath /sandbox (see supervisor.c).
 */
export function toSandboxPath(path: string, field = "path"): string {
  if (typeof path !== "string" || path.length === 0) throw new RequestError(`Cannot use ${field} "${path}": empty path`, field);
  if (path.includes("\0")) throw new RequestError(`Cannot use ${field} ${JSON.stringify(path)}: contains a NUL byte`, field);
  const absolute = path.startsWith("/") ? path : `${SANDBOX_DIR}/${path}`;
  if (absolute.split("/").includes("..")) {
    throw new RequestError(`Cannot use ${field} "${path}": ".." is not allowed`, field, "paths must stay inside /sandbox");
  }
  const normalized = posix.normalize(absolute);
  if (!normalized.startsWith(`${SANDBOX_DIR}/`) || normalized.length <= SANDBOX_DIR.length + 1) {
    throw new RequestError(`Cannot use ${field} "${path}": outside /sandbox`, field, "paths must stay inside /sandbox");
  }
  const relative = normalized.slice(SANDBOX_DIR.length + 1).replace(/\/+$/, "");
  if (Buffer.byteLength(relative) >= 4000) throw new RequestError(`Cannot use ${field}: path too long`, field);
  return relative;
}
