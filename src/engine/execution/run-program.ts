import { ConflictError, SandboxError } from "../../errors";
import type { PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";
import type { ExitReport } from "../supervisor/protocol";
import type { RunHandlers } from "./handlers";
import { type OutputStreams, outputStreams } from "./output-streams";

/**
 * Runs the program as the sandbox user with `timeoutMs` left of the execution's budget. Its
 * output reaches the handlers masked and capped as it is produced (`streams` holds it even
 * when no report ever comes); `done` resolves with the supervisor's report.
 */
export function runProgram(
  sandbox: Sandbox,
  prepared: PreparedExecution,
  handlers: RunHandlers,
  timeoutMs: number,
): { streams: OutputStreams; done: Promise<{ report: ExitReport; streams: OutputStreams }> } {
  const streams = outputStreams(prepared, handlers.collect, handlers.onStdout, handlers.onStderr);
  const run = async () => {
    const report = await sandbox.channel.execute(
      {
        argv: prepared.argv,
        env: prepared.env,
        timeoutMs,
        maxOutputBytes: prepared.maxOutputBytes,
        ...(prepared.stdin ? { stdin: prepared.stdin } : {}),
        // The program file travels in the execute frame itself: one round trip per run.
        files: [{ path: prepared.codePath, content: Buffer.from(prepared.code, "utf8") }],
        removeAfter: [prepared.codePath],
        ...(prepared.spec.zygote ? { zygote: true } : {}),
        ...(prepared.standby ? { standby: true } : {}),
      },
      { onStdout: (chunk) => streams.stdout.push(chunk), onStderr: (chunk) => streams.stderr.push(chunk) },
      handlers.signal,
    );
    if (report.error && report.refusedFile === prepared.codePath) {
      // What a program of a session left at the program file's path (a directory): the caller's to fix, not a lost sandbox.
      throw new ConflictError(`Cannot write the program file: ${report.error.slice("cannot write ".length)}`, "remove it, or name the program file otherwise (programFile)");
    }
    if (report.error) throw new SandboxError(`Cannot run the program: ${report.error}`);
    streams.stdout.end(report.truncatedStdout);
    streams.stderr.end(report.truncatedStderr);
    return { report, streams };
  };
  return { streams, done: run() };
}
