import { describe, expect, test } from "bun:test";
import type { ExecutionSummary, ResourceUsage } from "../../protocol/execution";
import { statsLine } from "./stats-line";

function summary(usage: Partial<ResourceUsage> = {}, durationMs = 85): ExecutionSummary {
  return {
    executionId: "e",
    runtime: "python",
    timestamp: "2026-01-01T00:00:00.000Z",
    exitCode: 0,
    durationMs,
    phases: { queueMs: 0, acquireMs: 0, installMs: 0, runMs: durationMs, collectMs: 0 },
    truncated: false,
    timedOut: false,
    oomKilled: false,
    containerId: "c",
    resourceUsage: {
      cpuTimeMs: 18,
      peakMemoryBytes: 8_224_768,
      stdoutBytes: 3,
      stderrBytes: 0,
      networkBytesIn: null,
      networkBytesOut: null,
      killReason: null,
      ...usage,
    },
  };
}

describe("statsLine", () => {
  test("cpu, peak memory in MiB, output bytes, duration and kill reason on one line", () => {
    expect(statsLine(summary())).toBe("cpu 18 ms, peak memory 7.8 MiB, stdout 3 B, stderr 0 B, duration 85 ms, kill reason none");
  });

  test("the kill reason is named when the engine stopped the program", () => {
    expect(statsLine(summary({ killReason: "timeout" }, 1000))).toEndWith("duration 1000 ms, kill reason timeout");
  });

  test("network bytes appear only when counted", () => {
    expect(statsLine(summary())).not.toContain("network");
    expect(statsLine(summary({ networkBytesIn: 120, networkBytesOut: 40 }))).toContain("network in 120 B, network out 40 B");
  });

  test("never more than one line", () => {
    expect(statsLine(summary({ killReason: "output-cap" }))).not.toContain("\n");
  });
});
