import type { ExecutionSummary } from "../../protocol/execution";

const MIB = 1024 * 1024;

/**
 * The one-line receipt `isol8 run --stats` prints on stderr, e.g.
 * `cpu 18 ms, peak memory 7.8 MiB, stdout 3 B, stderr 0 B, duration 22 ms, kill reason none`.
 * Network bytes appear only when the run had a network to count.
 */
export function statsLine(summary: ExecutionSummary): string {
  const usage = summary.resourceUsage;
  const parts = [
    `cpu ${usage.cpuTimeMs} ms`,
    `peak memory ${(usage.peakMemoryBytes / MIB).toFixed(1)} MiB`,
    `stdout ${usage.stdoutBytes} B`,
    `stderr ${usage.stderrBytes} B`,
  ];
  if (usage.networkBytesIn !== null || usage.networkBytesOut !== null) {
    parts.push(`network in ${usage.networkBytesIn ?? 0} B`, `network out ${usage.networkBytesOut ?? 0} B`);
  }
  parts.push(`duration ${summary.durationMs} ms`, `kill reason ${usage.killReason ?? "none"}`);
  return parts.join(", ");
}
