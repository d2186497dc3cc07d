import type { ExecutionResult, KillReason } from "../../protocol/execution";
import type { PreparedExecution } from "../prepare";
import type { ExitReport } from "../supervisor/protocol";
import type { OutputStreams } from "./output-streams";

/** Why the engine stopped the program, from the supervisor's report (first cause wins). Pure. */
export function killReasonOf(report: Pick<ExitReport, "reason" | "oomKilled" | "pidsLimitHit">, truncated: boolean): KillReason | null {
  if (report.reason === "timeout") return "timeout";
  if (report.oomKilled) return "memory-limit";
  if (report.reason === "output-cap" || truncated) return "output-cap";
  if (report.reason === "aborted") return "aborted";
  if (report.pidsLimitHit) return "pids-limit";
  return null;
}

export interface ResultParts {
  prepared: PreparedExecution;
  containerId: string;
  /** Start of the execution (performance.now()) and as wall-clock time. */
  startedMs: number;
  timestamp: string;
  report: ExitReport;
  streams: OutputStreams;
  files: Record<string, string>;
  missingFiles: string[];
}

/** The execution's result from the supervisor's report, the output streams and the files read back. */
export function executionResult(parts: ResultParts): ExecutionResult {
  const { prepared, report, streams } = parts;
  const truncated = streams.stdout.truncated || streams.stderr.truncated;
  return {
    executionId: prepared.executionId,
    runtime: prepared.runtime.name,
    timestamp: parts.timestamp,
    stdout: streams.stdout.text,
    stderr: streams.stderr.text,
    exitCode: report.exitCode < 0 ? 137 : report.exitCode,
    durationMs: Math.round(performance.now() - parts.startedMs),
    truncated,
    timedOut: report.reason === "timeout",
    oomKilled: report.oomKilled,
    containerId: parts.containerId,
    ...(prepared.outputPaths.length ? { files: parts.files, missingFiles: parts.missingFiles } : {}),
    resourceUsage: {
      cpuTimeMs: Math.round((report.cpuUserUs + report.cpuSysUs) / 1000),
      peakMemoryBytes: report.maxRssKb * 1024,
      stdoutBytes: report.stdoutBytes,
      stderrBytes: report.stderrBytes,
      networkBytesIn: null,
      networkBytesOut: null,
      killReason: killReasonOf(report, truncated),
    },
  };
}
