import { describe, expect, test } from "bun:test";
import type { KillReason } from "./execution";
import { type ExecutionOutcome, executionOutcome } from "./observe";

const result = (fields: { exitCode?: number; timedOut?: boolean; oomKilled?: boolean; truncated?: boolean; killReason?: KillReason | null }) => ({
  exitCode: fields.exitCode ?? 0,
  timedOut: fields.timedOut ?? false,
  oomKilled: fields.oomKilled ?? false,
  truncated: fields.truncated ?? false,
  resourceUsage: { cpuTimeMs: 0, peakMemoryBytes: 0, stdoutBytes: 0, stderrBytes: 0, networkBytesIn: null, networkBytesOut: null, killReason: fields.killReason ?? null },
});

describe("executionOutcome", () => {
  test.each<[Parameters<typeof result>[0], ExecutionOutcome]>([
    [{}, "ok"],
    [{ exitCode: 1 }, "nonzero-exit"],
    [{ exitCode: 137, timedOut: true, killReason: "timeout" }, "timeout"],
    [{ exitCode: 137, oomKilled: true, killReason: "memory-limit" }, "oom"],
    [{ exitCode: 137, truncated: true, killReason: "output-cap" }, "output-cap"],
    [{ exitCode: 137, killReason: "pids-limit" }, "pids-limit"],
    [{ exitCode: 137, killReason: "aborted" }, "aborted"],
  ])("%p → %s", (fields, outcome) => {
    expect(executionOutcome(result(fields))).toBe(outcome);
  });
});
