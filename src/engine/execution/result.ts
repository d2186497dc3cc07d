import type { ExecutionResult, KillReason, Phase } from "../../protocol/execution";
import type { Runtime } from "../../runtimes/registry";
import type { PreparedExecution } from "../prepare";
import type { ExitReport } from "../supervisor/protocol";
import type { OutputStreams } from "./output-streams";
import type { PhaseClock } from "./phase-clock";

/** The runtime stopped itself for want of memory (V8's heap limit, Python's MemoryError). Pure. */
export function runtimeOutOfMemory(runtime: Pick<Runtime, "outOfMemory">, exitCode: number, stderrTail: string): boolean {
  const oom = runtime.outOfMemory;
  return Boolean(oom && oom.exitCodes.includes(exitCode) && new RegExp(oom.stderr).test(stderrTail));
}

/** Why the engine stopped the program, if it did. Pure. */
export function killReasonOf(report: Pick<ExitReport, "reason" | "oomKilled" | "pidsLimitHit">, truncated: boolean): KillReason | null {
  if (report.reason === "timeout") return "timeout";
  if (report.oomKilled) return "memory-limit";
  if (report.reason === "output-cap" || truncated) return "output-cap";
  if (report.reason === "aborted") return "aborted";
  if (report.pidsLimitHit) return "pids-limit";
  return null;
}

/**
 * The exit code a result reports. A run stopped at the output cap reports 137 whether the
 * program was still writing (killed) or had just exited on its own: which came first is a race,
 * and a result must not depend on it. Killed by a signal: 128 + signal. Pure.
 */
export function exitCodeOf(report: Pick<ExitReport, "exitCode">, killReason: KillReason | null): number {
  if (killReason === "output-cap" || report.exitCode < 0) return 137;
  return report.exitCode;
}

/** The supervisor's report for a run that never got one (not started, or the supervisor stopped answering). */
export function missingReport(reason: ExitReport["reason"]): ExitReport {
  return {
    exitCode: -1,
    signal: 0,
    reason,
    truncatedStdout: false,
    truncatedStderr: false,
    oomKilled: false,
    pidsLimitHit: false,
    cpuUserUs: 0,
    cpuSysUs: 0,
    maxRssKb: 0,
    stdoutBytes: 0,
    stderrBytes: 0,
    durationUs: 0,
    clean: false,
  };
}

export interface ResultParts {
  prepared: PreparedExecution;
  /** Null when no container was acquired. */
  containerId: string | null;
  clock: PhaseClock;
  timestamp: string;
  report: ExitReport;
  /** Null when nothing ran (no output at all). */
  streams: OutputStreams | null;
  /** Output files read back, as bytes. */
  files: Record<string, Buffer>;
  missingFiles: string[];
  /** Why each missing file was not read. */
  fileErrors: Record<string, string>;
  /** The budget ran out in this phase (the result is then timed out, whatever the report says). */
  timeoutPhase?: Phase;
}

/** Every output path reported as not read, for one reason. Pure. */
export function notRead(prepared: PreparedExecution, why: string): Pick<ResultParts, "files" | "missingFiles" | "fileErrors"> {
  const missingFiles = prepared.outputPaths.map((o) => o.requested);
  return { files: {}, missingFiles, fileErrors: Object.fromEntries(missingFiles.map((path) => [path, why])) };
}

/**
 * The execution's result from the supervisor's report, the output streams and the files read
 * back (as bytes). Pure but for the clock.
 */
export function executionResult(parts: ResultParts): ExecutionResult<Uint8Array> {
  const { prepared, report, streams } = parts;
  const truncated = Boolean(streams && (streams.stdout.truncated || streams.stderr.truncated));
  const timedOut = parts.timeoutPhase !== undefined || report.reason === "timeout";
  const ranOutOfMemory = Boolean(streams) && runtimeOutOfMemory(prepared.runtime, report.exitCode, streams!.stderr.tail);
  const killReason = timedOut ? "timeout" : (killReasonOf(report, truncated) ?? (ranOutOfMemory ? "memory-limit" : null));
  const stdoutBytes = streams?.stdout.exactBytes;
  const stderrBytes = streams?.stderr.exactBytes;
  return {
    executionId: prepared.executionId,
    runtime: prepared.runtime.name,
    timestamp: parts.timestamp,
    stdout: streams?.stdout.text ?? "",
    stderr: streams?.stderr.text ?? "",
    // Only for output that is not valid UTF-8: the text above is then not the exact bytes.
    ...(stdoutBytes ? { stdoutBase64: stdoutBytes.toString("base64") } : {}),
    ...(stderrBytes ? { stderrBase64: stderrBytes.toString("base64") } : {}),
    exitCode: timedOut && report.exitCode < 0 ? 137 : exitCodeOf(report, killReason),
    durationMs: parts.clock.elapsedMs(),
    phases: parts.clock.timings(),
    truncated,
    timedOut,
    ...(timedOut ? { timeoutPhase: parts.timeoutPhase ?? "run" } : {}),
    oomKilled: report.oomKilled,
    containerId: parts.containerId ?? "",
    ...(prepared.outputPaths.length ? { files: parts.files, missingFiles: parts.missingFiles, fileErrors: parts.fileErrors } : {}),
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
}
