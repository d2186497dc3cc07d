import { FileError, type Isol8Error, RequestError, SandboxError } from "../../errors";
import type { FileRefusal } from "./protocol";

const HINTS: Record<FileError["reason"], string> = {
  "not-found": "check the path; files persist only in a persistent engine or session",
  "outside-sandbox": "paths, and the symbolic links on them, must stay inside /sandbox",
  symlink: "files are never written through a symbolic link: remove the link first",
  "not-regular-file": "only regular files are read and written (not FIFOs, sockets, devices or directories)",
  "permission-denied": "the sandbox user's own permissions apply (a program may have changed them)",
  "too-large": "stay under the file size limit and the /sandbox size",
};

/**
 * The error a refused file operation becomes. What is at the path is the caller's problem
 * (FileError, or RequestError for a name the supervisor cannot use); only an unexpected
 * failure (`io`) is the sandbox's (SandboxError).
 */
export function fileOperationError(action: "read" | "write", relPath: string, refusal: FileRefusal): Isol8Error {
  const message = `Cannot ${action} "/sandbox/${relPath}": ${refusal.detail}`;
  switch (refusal.reason) {
    case "invalid-path":
      return new RequestError(message, "path");
    case "io":
      return new SandboxError(message);
    default:
      return new FileError(refusal.reason, message, HINTS[refusal.reason]);
  }
}
