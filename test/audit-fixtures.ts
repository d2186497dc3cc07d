// Shared fixtures of the audit unit tests (no Docker). Not a test file itself.
import { defaultConfig, type Isol8Config } from "../src/config/schema";
import { createRuntimeRegistry } from "../src/runtimes/registry";
import { type PreparedExecution, prepareExecution } from "../src/engine/prepare";
import type { ExecutionRequest } from "../src/protocol/execution";
import type { ExecutionResult } from "../src/protocol/execution";

/** A prepared execution as the engine makes it (unconfined seccomp: no profile needed). */
export function prepared(request: Partial<ExecutionRequest> = {}): PreparedExecution {
  return prepareExecution(
    { code: "print(1)", ...request },
    { config: defaultConfig(), runtimes: createRuntimeRegistry(), runtimeImage: (name) => `isol8:${name}`, seccomp: { mode: "unconfined" }, isolation: "runc", owner: "test" },
  );
}

/** A finished execution's result; `overrides` replace fields. */
export function resultOf(p: PreparedExecution, overrides: Partial<ExecutionResult> = {}): ExecutionResult {
  return {
    executionId: p.executionId,
    runtime: p.runtime.name,
    timestamp: "2026-03-04T05:06:07.000Z",
    stdout: "1\n",
    stderr: "",
    exitCode: 0,
    durationMs: 42,
    phases: { queueMs: 1, acquireMs: 2, installMs: 0, runMs: 38, collectMs: 1 },
    truncated: false,
    timedOut: false,
    oomKilled: false,
    containerId: "c0ffee",
    resourceUsage: {
      cpuTimeMs: 12,
      peakMemoryBytes: 9_000_000,
      stdoutBytes: 2,
      stderrBytes: 0,
      networkBytesIn: null,
      networkBytesOut: null,
      killReason: null,
    },
    ...overrides,
  };
}

/** The `audit` config section with overrides. */
export function auditConfig(overrides: Partial<Isol8Config["audit"]> = {}): Isol8Config["audit"] {
  return { ...defaultConfig().audit, enabled: true, ...overrides };
}
