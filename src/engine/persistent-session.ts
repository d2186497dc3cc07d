import { ConflictError, Isol8Error } from "../errors";
import type { RuntimeName } from "../runtimes/registry";
import type { PreparedExecution } from "./prepare";
import type { Sandbox } from "./sandbox";

/**
 * One container kept for an engine's (or server session's) whole life: files persist
 * across executions, executions run one at a time, and the container is bound to the
 * runtime of its first use. Limits (memory, CPU, pids, tmpfs sizes) are those of the
 * first request; timeouts and output caps apply per execution.
 */
export class PersistentSession {
  private sandbox: Sandbox | null = null;
  private runtime: RuntimeName | null = null;
  /** Security-relevant container settings fixed by the first use. */
  private settings: { network: string; seccomp: string; image: string } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private creating: Promise<Sandbox> | null = null;
  /** Time of the last use, for idle pruning. */
  lastUsed = Date.now();
  /** Number of operations running or queued. */
  active = 0;

  constructor(
    private readonly create: (prepared: PreparedExecution) => Promise<Sandbox>,
    private readonly destroy: (sandbox: Sandbox) => Promise<void>,
  ) {}

  get boundRuntime(): RuntimeName | null {
    return this.runtime;
  }

  get containerId(): string | null {
    return this.sandbox?.id ?? null;
  }

  /** Runs fn with the session's sandbox, creating it on first use; one at a time. */
  use<T>(prepared: PreparedExecution, fn: (sandbox: Sandbox) => Promise<T>): Promise<T> {
    if (this.runtime && this.runtime !== prepared.runtime.name) {
      return Promise.reject(
        new ConflictError(
          `Cannot switch runtime from "${this.runtime}" to "${prepared.runtime.name}": a persistent container is bound to its first runtime`,
          `use a separate persistent engine or session for ${prepared.runtime.name}`,
        ),
      );
    }
    const asked = {
      network: prepared.spec.network,
      seccomp: prepared.spec.seccomp.mode,
      image: prepared.spec.image,
    };
    // The container cannot change its network, seccomp profile or image: refuse rather than
    // run a request under settings it did not ask for.
    for (const field of ["network", "seccomp", "image"] as const) {
      if (this.settings && this.settings[field] !== asked[field]) {
        return Promise.reject(
          new ConflictError(
            `Cannot switch ${field} from "${this.settings[field]}" to "${asked[field]}": a persistent container keeps the settings of its first use`,
            `use a separate persistent engine or session for ${field} "${asked[field]}"`,
          ),
        );
      }
    }
    this.settings ??= asked;
    this.runtime ??= prepared.runtime.name;
    this.active++;
    const run = async () => {
      try {
        const sandbox = await this.ensure(prepared);
        return await fn(sandbox);
      } finally {
        this.active--;
        this.lastUsed = Date.now();
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  async close(): Promise<void> {
    const sandbox = this.sandbox ?? (this.creating ? await this.creating.catch(() => null) : null);
    this.sandbox = null;
    if (sandbox) await this.destroy(sandbox);
  }

  private async ensure(prepared: PreparedExecution): Promise<Sandbox> {
    if (this.sandbox && (this.sandbox.channel.broken || this.sandbox.isDisposed)) {
      const dead = this.sandbox;
      this.sandbox = null;
      await this.destroy(dead).catch(() => {});
      throw new Isol8Error(
        "Cannot use the persistent container: it stopped (its files are lost)",
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
