import { SandboxError } from "../../errors";
import type { PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";
import type { ExitReport } from "../supervisor/protocol";
import type { RunHandlers } from "./handlers";
import { type OutputStreams, outputStreams } from "./output-streams";

/** An install that did not succeed: the run ends with its report and output. */
export interface FailedInstall {
  report: ExitReport;
  streams: OutputStreams;
}

/** Writes the request's files under /sandbox (as the sandbox user). */
export async function writeInputFiles(sandbox: Sandbox, prepared: PreparedExecution): Promise<void> {
  for (const file of prepared.files) await sandbox.channel.writeFile(file.path, file.content);
}

/**
 * Installs the requested packages within `timeoutMs` (what is left of the execution's
 * budget). Their output is shown only when the install fails: then the run ends there, and
 * `done` gives the failure. `streams` is what the caller sees (empty unless it failed).
 */
export function installPackages(
  sandbox: Sandbox,
  prepared: PreparedExecution,
  handlers: RunHandlers,
  timeoutMs: number,
): { streams: OutputStreams; done: Promise<FailedInstall | null> } {
  const shown = outputStreams(prepared, handlers.collect, handlers.onStdout, handlers.onStderr);
  const run = async (): Promise<FailedInstall | null> => {
    if (!prepared.install) return null;
    const install = outputStreams(prepared, true);
    const report = await sandbox.channel.execute(
      { argv: prepared.install.argv, env: prepared.env, timeoutMs: Math.max(1, timeoutMs), maxOutputBytes: prepared.maxOutputBytes },
      { onStdout: (chunk) => install.stdout.push(chunk), onStderr: (chunk) => install.stderr.push(chunk) },
      handlers.signal,
    );
    if (report.error) throw new SandboxError(`Cannot install packages: ${report.error}`);
    install.stdout.end(report.truncatedStdout);
    install.stderr.end(report.truncatedStderr);
    if (report.exitCode === 0 && report.reason === "exited") return null;
    const why = report.reason === "timeout" ? "timeout" : `exit ${report.exitCode}`;
    shown.stdout.push(Buffer.from(install.stdout.text));
    shown.stderr.push(Buffer.from(`isol8: installing ${prepared.install.packages.join(" ")} failed (${why})\n${install.stderr.text}`));
    shown.stdout.end(false);
    shown.stderr.end(false);
    return { report, streams: shown };
  };
  return { streams: shown, done: run() };
}
