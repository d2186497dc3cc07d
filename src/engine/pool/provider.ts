import type { PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";

/** Where executions get their containers from, and where they go afterwards. */
export interface SandboxProvider {
  /** A started sandbox with no trace of earlier executions. */
  acquire(prepared: PreparedExecution): Promise<Sandbox>;
  /**
   * Hands a sandbox back. `reusable` is false when the execution could not prove every
   * process gone (or failed): such a container is destroyed, never reused.
   */
  release(sandbox: Sandbox, reusable: boolean): Promise<void>;
  /** Destroys everything the provider holds. */
  stop(): Promise<void>;
}
