import { ConflictError, SessionLostError } from "../../errors";
import type { RuntimeName } from "../../runtimes/registry";
import type { PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";
import type { SandboxProvider } from "./provider";

/**
 * One container for an engine's (or server session's) whole life: files persist across
 * executions, users take turns (acquire waits until the previous holder released), and the
 * container is bound to the runtime, network, seccomp mode and image of its first use.
 * Limits (memory, CPU, pids, tmpfs sizes) are those of the first request; timeouts and
 * output caps apply per execution.
 */
export class SessionProvider implements SandboxProvider {
  private sandbox: Sandbox | null = null;
  private runtime: RuntimeName | null = null;
  /** Security-relevant container settings fixed by the first use. */
  private settings: { network: string; seccomp: string; image: string } | null = null;
  private creating: Promise<Sandbox> | null = null;
  /** Resolves when the current holder releases: the next acquire waits on it. */
  private turn: Promise<void> = Promise.resolve();
  private endTurn: (() => void) | null = null;

  constructor(
    private readonly create: (prepared: PreparedExecution) => Promise<Sandbox>,
    private readonly destroy: (sandbox: Sandbox) => Promise<void>,
  ) {}

  get boundRuntime(): RuntimeName | null {
    return this.runtime;
  }

  /** Image the container is bound to (null before its first use). */
  get boundImage(): string | null {
    return this.settings?.image ?? null;
  }

  /** The container when it can still be used (not broken, not removed); null otherwise. */
  get usableContainerId(): string | null {
    const sandbox = this.sandbox;
    return sandbox && !sandbox.channel.broken && !sandbox.isDisposed ? sandbox.id : null;
  }

  get containerId(): string | null {
    return this.sandbox?.id ?? null;
  }

  /** The session's container, created on first use; waits for the previous holder. */
  async acquire(prepared: PreparedExecution): Promise<Sandbox> {
    this.checkBinding(prepared);
    this.settings ??= { network: prepared.spec.network, seccomp: prepared.spec.seccomp.mode, image: prepared.spec.image };
    this.runtime ??= prepared.runtime.name;
    const previous = this.turn;
    let end!: () => void;
    this.turn = new Promise((resolve) => (end = resolve));
    await previous;
    this.endTurn = end;
    try {
      return await this.ensure(prepared);
    } catch (error) {
      this.release();
      throw error;
    }
  }

  /** Ends the holder's turn; the container stays for the next one. */
  async release(): Promise<void> {
    const end = this.endTurn;
    this.endTurn = null;
    end?.();
  }

  /**
   * Forgets a container whose loss was already reported to the caller (SessionLostError for
   * the execution it happened in): the next use starts a new container without a second error.
   */
  forget(sandbox: Sandbox): void {
    if (this.sandbox !== sandbox) return;
    this.sandbox = null;
    void this.destroy(sandbox).catch(() => {});
  }

  async stop(): Promise<void> {
    const sandbox = this.sandbox ?? (this.creating ? await this.creating.catch(() => null) : null);
    this.sandbox = null;
    if (sandbox) await this.destroy(sandbox);
  }

  /** A request for another runtime or other container settings is refused, never run under the wrong ones. */
  private checkBinding(prepared: PreparedExecution): void {
    if (this.runtime && this.runtime !== prepared.runtime.name) {
      throw new ConflictError(
        `Cannot switch runtime from "${this.runtime}" to "${prepared.runtime.name}": a persistent container is bound to its first runtime`,
        `use a separate persistent engine or session for ${prepared.runtime.name}`,
      );
    }
    const asked = { network: prepared.spec.network, seccomp: prepared.spec.seccomp.mode, image: prepared.spec.image };
    for (const field of ["network", "seccomp", "image"] as const) {
      if (this.settings && this.settings[field] !== asked[field]) {
        throw new ConflictError(
          `Cannot switch ${field} from "${this.settings[field]}" to "${asked[field]}": a persistent container keeps the settings of its first use`,
          `use a separate persistent engine or session for ${field} "${asked[field]}"`,
        );
      }
    }
  }

  private async ensure(prepared: PreparedExecution): Promise<Sandbox> {
    if (this.sandbox && (this.sandbox.channel.broken || this.sandbox.isDisposed)) {
      const dead = this.sandbox;
      this.sandbox = null;
      await this.destroy(dead).catch(() => {});
      throw new SessionLostError(
        `Cannot use the persistent container "${dead.id.slice(0, 12)}": it was lost (removed, killed, or unresponsive past a deadline); its files are gone`,
        "the next request starts a new container",
      );
    }
    if (this.sandbox) return this.sandbox;
    this.creating = this.create(prepared);
    try {
      this.sandbox = await this.creating;
      return this.sandbox;
    } finally {
      this.creating = null;
    }
  }
}
