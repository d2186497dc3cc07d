import { OutputStream } from "../output/output-stream";
import type { PreparedExecution } from "../prepare";

export interface OutputStreams {
  stdout: OutputStream;
  stderr: OutputStream;
}

/** The masked, capped stdout and stderr of one program of an execution. */
export function outputStreams(
  prepared: PreparedExecution,
  collect: boolean,
  onStdout?: (text: string, bytes?: Buffer) => void,
  onStderr?: (text: string, bytes?: Buffer) => void,
): OutputStreams {
  const stream = (onText?: (text: string, bytes?: Buffer) => void) =>
    new OutputStream({ secrets: prepared.secrets, maxBytes: prepared.maxOutputBytes, onText, collect });
  return { stdout: stream(onStdout), stderr: stream(onStderr) };
}
