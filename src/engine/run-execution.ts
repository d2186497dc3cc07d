import { SandboxError } from "../errors";
import { OutputStream } from "./output/output-stream";
import type { PreparedExecution } from "./prepare";
import { MAX_FILE_BYTES } from "./prepare";
import type { ExecutionResult, KillReason } from "../protocol/execution";
import type { ExitReport } from "./supervisor/protocol";
import type { Sandbox } from "./sandbox";

export interface RunHandlers {
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /** Keep the output in the result (collected mode). */
  collect: boolean;
  signal?: AbortSignal;
}

export interface RunOutcome {
  result: ExecutionResult;
  /** The supervisor proved every process of the run gone; the container may be reused after cleaning. */
  clean: boolean;
}

/** Runs one prepared execution in a started sandbox: files in, program, output, files out. */
export async function runExecution(sandbox: Sandbox, prepared: PreparedExecution, handlers: RunHandlers): Promise<RunOutcome> {
  const started = performance.now();
  const timestamp = new Date().toISOString();
  const { channel } = sandbox;
  sandbox.uses++;

  for (const file of prepared.files) await channel.writeFile(file.path, file.content);

  const remaining = () => Math.max(1, prepared.timeoutMs - (performance.now() - started));
  const streams = (onStdout?: (t: string) => void, onStderr?: (t: string) => void, collect = handlers.collect) => ({
    stdout: new OutputStream({ secrets: prepared.secrets, maxBytes: prepared.maxOutputBytes, onText: onStdout, collect }),
    stderr: new OutputStream({ secrets: prepared.secrets, maxBytes: prepared.maxOutputBytes, onText: onStderr, collect }),
  });

  // Packages first, within the same timeout; their output is shown only when they fail.
  if (prepared.install) {
    const install = streams(undefined, undefined, true);
    const report = await channel.execute(
      { argv: prepared.install.argv, env: prepared.env, timeoutMs: remaining(), maxOutputBytes: prepared.maxOutputBytes },
      { onStdout: (chunk) => install.stdout.push(chunk), onStderr: (chunk) => install.stderr.push(chunk) },
      handlers.signal,
    );
    if (report.error) throw new SandboxError(`Cannot install packages: ${report.error}`);
    install.stdout.end(report.truncatedStdout);
    install.stderr.end(report.truncatedStderr);
    if (report.exitCode !== 0 || report.reason !== "exited") {
      const note = `isol8: installing ${prepared.install.packages.join(" ")} failed (${report.reason === "timeout" ? "timeout" : `exit ${report.exitCode}`})\n`;
      const shown = streams(handlers.onStdout, handlers.onStderr);
      shown.stdout.push(Buffer.from(install.stdout.text));
      shown.stderr.push(Buffer.from(note + install.stderr.text));
      shown.stdout.end(false);
      shown.stderr.end(false);
      return finish(sandbox, prepared, started, timestamp, report, shown, { files: {}, missingFiles: prepared.outputPaths.map((o) => o.requested) });
    }
  }

  const { stdout, stderr } = streams(handlers.onStdout, handlers.onStderr);
  const report = await channel.execute(
    {
      argv: prepared.argv,
      env: prepared.env,
      timeoutMs: remaining(),
      maxOutputBytes: prepared.maxOutputBytes,
      ...(prepared.stdin ? { stdin: prepared.stdin } : {}),
      // The program file travels in the execute frame itself: one round trip per run.
      files: [{ path: prepared.codePath, content: Buffer.from(prepared.code, "utf8") }],
      removeAfter: [prepared.codePath],
    },
    { onStdout: (chunk) => stdout.push(chunk), onStderr: (chunk) => stderr.push(chunk) },
    handlers.signal,
  );
  if (report.error) throw new SandboxError(`Cannot run the program: ${report.error}`);
  stdout.end(report.truncatedStdout);
  stderr.end(report.truncatedStderr);

  const files: Record<string, string> = {};
  const missingFiles: string[] = [];
  for (const output of prepared.outputPaths) {
    const read = await channel.readFile(output.path, MAX_FILE_BYTES);
    if (read.ok) files[output.requested] = read.content.toString("base64");
    else missingFiles.push(output.requested);
  }
  return finish(sandbox, prepared, started, timestamp, report, { stdout, stderr }, { files, missingFiles });
}

/** The result of an execution from the supervisor's report and the output streams. */
function finish(
  sandbox: Sandbox,
  prepared: PreparedExecution,
  started: number,
  timestamp: string,
  report: ExitReport,
  { stdout, stderr }: { stdout: OutputStream; stderr: OutputStream },
  { files, missingFiles }: { files: Record<string, string>; missingFiles: string[] },
): RunOutcome {
  const timedOut = report.reason === "timeout";
  const truncated = stdout.truncated || stderr.truncated;
  const killReason: KillReason | null = timedOut
    ? "timeout"
    : report.oomKilled
      ? "memory-limit"
      : report.reason === "output-cap" || truncated
        ? "output-cap"
        : report.reason === "aborted"
          ? "aborted"
          : report.pidsLimitHit
            ? "pids-limit"
            : null;
  const result: ExecutionResult = {
    executionId: prepared.executionId,
    runtime: prepared.runtime.name,
    timestamp,
    stdout: stdout.text,
    stderr: stderr.text,
    exitCode: report.exitCode < 0 ? 137 : report.exitCode,
    durationMs: Math.round(performance.now() - started),
    truncated,
    timedOut,
    oomKilled: report.oomKilled,
    containerId: sandbox.id,
    ...(prepared.outputPaths.length ? { files, missingFiles } : {}),
    resourceUsage: {
      cpuTimeMs: Math.round((report.cpuUserUs + report.cpuSysUs) / 1000),
      peakMemoryBytes: report.maxRssKb * 1024,
      stdoutBytes: report.stdoutBytes,
      stderrBytes: report.stderrBytes,
      networkBytesIn: null,
      networkBytesOut: null,
      killReason,
    },
  };
  return { result, clean: report.clean };
}
