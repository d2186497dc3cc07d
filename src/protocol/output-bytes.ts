// Byte access to a result's output: the exact bytes whether or not they were valid UTF-8.
import type { ExecutionResult } from "./execution";

/**
 * The exact bytes a program wrote to `stream` (masked and capped like the text): from
 * `<stream>Base64` when the output was not valid UTF-8, else the text's UTF-8 encoding (the
 * same bytes). Works on results of DockerIsol8 and RemoteIsol8 alike.
 */
export function outputBytes(result: Pick<ExecutionResult, "stdout" | "stderr" | "stdoutBase64" | "stderrBase64">, stream: "stdout" | "stderr"): Buffer {
  const base64 = stream === "stdout" ? result.stdoutBase64 : result.stderrBase64;
  return base64 !== undefined ? Buffer.from(base64, "base64") : Buffer.from(result[stream], "utf8");
}

/** The exact bytes of a streamed output event (`base64` when the piece was not valid UTF-8). */
export function eventBytes(event: { data: string; base64?: string }): Buffer {
  return event.base64 !== undefined ? Buffer.from(event.base64, "base64") : Buffer.from(event.data, "utf8");
}
