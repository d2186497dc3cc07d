import { MAX_FILE_BYTES, type PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";

/** Reads the requested output paths back: found ones as base64, the others listed as missing. */
export async function collectOutputFiles(
  sandbox: Sandbox,
  prepared: PreparedExecution,
): Promise<{ files: Record<string, string>; missingFiles: string[] }> {
  const files: Record<string, string> = {};
  const missingFiles: string[] = [];
  for (const output of prepared.outputPaths) {
    const read = await sandbox.channel.readFile(output.path, MAX_FILE_BYTES);
    if (read.ok) files[output.requested] = read.content.toString("base64");
    else missingFiles.push(output.requested);
  }
  return { files, missingFiles };
}
