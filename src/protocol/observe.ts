// What an engine lets others observe: one event per thing that happened, passed to an
// `observe` function its owner gives it. Metrics and logs subscribe to these (server/serve.ts
// wires them); the engine itself knows nothing of either.
import type { ExecutionSummary, PhaseTimings } from "./execution";
import type { RuntimeName } from "../runtimes/registry";

/** How an execution ended, as counted: the program's own outcomes, or isol8's failure (`error`). */
export const EXECUTION_OUTCOMES = ["ok", "nonzero-exit", "timeout", "oom", "output-cap", "pids-limit", "aborted", "error"] as const;
export type ExecutionOutcome = (typeof EXECUTION_OUTCOMES)[number];

export type EngineEvent =
  | {
      type: "execution";
      runtime: RuntimeName;
      outcome: ExecutionOutcome;
      durationMs: number;
      /** Null when isol8 failed before a result. */
      phases: PhaseTimings | null;
      /** The request that asked for it (a server passes it with the audit context). */
      requestId?: string;
    }
  | { type: "container-created"; runtime: string }
  | { type: "container-destroyed" }
  | { type: "proxy-request"; action: "ALLOW" | "BLOCK" }
  | { type: "docker-error"; operation: string };

/** Receives engine events; must be cheap and must not throw (it runs on the execution path). */
export type EngineObserver = (event: EngineEvent) => void;

/** The outcome of a finished execution (pure: the result's fields, in order of precedence). */
export function executionOutcome(result: Pick<ExecutionSummary, "exitCode" | "timedOut" | "oomKilled" | "truncated" | "resourceUsage">): ExecutionOutcome {
  const kill = result.resourceUsage.killReason;
  if (kill === "aborted") return "aborted";
  if (result.timedOut || kill === "timeout") return "timeout";
  if (result.oomKilled || kill === "memory-limit") return "oom";
  if (kill === "pids-limit") return "pids-limit";
  if (result.truncated || kill === "output-cap") return "output-cap";
  return result.exitCode === 0 ? "ok" : "nonzero-exit";
}
