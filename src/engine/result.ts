import type { RuntimeName } from "../config/schema";
import type { NetworkLogEntry } from "./network/network-log";

export type { NetworkLogEntry };

/** Why the engine stopped a program, if it did. */
export type KillReason = "timeout" | "memory-limit" | "output-cap" | "pids-limit" | "aborted";

/** What one execution cost, measured inside its container for this execution only. */
export interface ResourceUsage {
  /** CPU time (user + system) of every process of the execution, in ms. */
  cpuTimeMs: number;
  /** Peak resident memory of the largest process of the execution, in bytes. */
  peakMemoryBytes: number;
  /** Bytes the program wrote to stdout / stderr (before capping). */
  stdoutBytes: number;
  stderrBytes: number;
  /** Bytes through the network proxy (filtered mode); null without a network to count. */
  networkBytesIn: number | null;
  networkBytesOut: number | null;
  killReason: KillReason | null;
}

/** Everything about an execution except its collected output. */
export interface ExecutionSummary {
  executionId: string;
  runtime: RuntimeName;
  /** Start time, ISO 8601. */
  timestamp: string;
  /** The program's exit code; 128 + signal when killed (137 after a timeout or OOM kill). */
  exitCode: number;
  durationMs: number;
  /** Output was cut at maxOutputSize (the program was stopped there). */
  truncated: boolean;
  timedOut: boolean;
  oomKilled: boolean;
  containerId: string;
  /** outputPaths that were read back: path -> base64 content. */
  files?: Record<string, string>;
  /** outputPaths that did not exist (or could not be read). */
  missingFiles?: string[];
  resourceUsage: ResourceUsage;
  /** Filtered network with logNetwork: one entry per request the program made, in order. */
  networkLogs?: NetworkLogEntry[];
}

export interface ExecutionResult extends ExecutionSummary {
  stdout: string;
  stderr: string;
}

/** Events of a streamed execution, in order; `exit` or `error` is always last. */
export type StreamEvent =
  | { type: "stdout"; data: string }
  | { type: "stderr"; data: string }
  | { type: "exit"; data: ExecutionSummary }
  | { type: "error"; data: string };
