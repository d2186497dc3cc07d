import type { PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";
import type { FileRefusal } from "../supervisor/protocol";

export interface CollectedFiles {
  /** Files read back, as bytes (the engine's callers choose base64 or bytes). */
  files: Record<string, Buffer>;
  /** Paths not read back, and why each. */
  missingFiles: string[];
  fileErrors: Record<string, string>;
}

/** Why a read was refused, naming the limit when it was a size limit. Pure. */
export function fileErrorText(refusal: FileRefusal, limit: "maxOutputFileSize" | "maxOutputFilesTotal"): string {
  return refusal.reason === "too-large" ? `file ${refusal.detail} (${limit})` : refusal.detail;
}

/**
 * Reads the requested output paths back, in order, each within maxOutputFileSize and all
 * within maxOutputFilesTotal: a file over either is not read (the supervisor checks its size
 * first) and is reported in `fileErrors`, as a missing or unreadable one is.
 */
export async function collectOutputFiles(sandbox: Sandbox, prepared: PreparedExecution): Promise<CollectedFiles> {
  const collected: CollectedFiles = { files: {}, missingFiles: [], fileErrors: {} };
  const { fileBytes, totalBytes } = prepared.outputLimits;
  let left = totalBytes;
  for (const output of prepared.outputPaths) {
    const max = Math.min(fileBytes, left);
    const read = await sandbox.channel.readFile(output.path, max);
    if (read.ok) {
      collected.files[output.requested] = read.content;
      left -= read.content.length;
    } else {
      collected.missingFiles.push(output.requested);
      collected.fileErrors[output.requested] = fileErrorText(read.refusal, max < fileBytes ? "maxOutputFilesTotal" : "maxOutputFileSize");
    }
  }
  return collected;
}
