import { randomUUID } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import { ConflictError } from "../../errors";
import type { CellOptions, CellResult, ContextInfo, ContextLostReason, ContextRuntime, Isol8Context } from "../../protocol/context";
import type { Sandbox } from "../sandbox";
import type { CellLimits } from "../supervisor/context-frames";
import { type CellOutcome, cellResult, checkDriverFrame } from "./cell-collector";
import { contextDriver } from "./drivers";

/** Time the supervisor may need past a cell's timeout and grace: its kill loop (3 s), draining, the wire. */
const HOST_SLACK_MS = 5_750;

/** What a context needs from its engine (passed in: see context-set.ts). */
export interface ContextHost {
  /** Runs work in the session's container during the caller's turn. */
  inSession<T>(runtime: ContextRuntime, image: string | undefined, work: (sandbox: Sandbox) => Promise<T>): Promise<T>;
  takeUid(): number;
  releaseUid(uid: number): void;
  limits(timeoutMs: number | undefined): CellLimits;
  startTimeoutMs: number;
  /** Files created or changed under /sandbox since the last call (artifacts). */
  changedFiles(sandbox: Sandbox): Promise<CellOutcome["artifacts"]>;
  /** One audit record per cell. */
  audit(context: EngineContext, code: string, result: CellResult, options: CellOptions): void;
  /** Called when a cell starts and ends (cancel by id, idle timers). */
  cellStarted(executionId: string, abort: AbortController): void;
  cellEnded(executionId: string): void;
  forget(context: EngineContext): void;
  log(line: string): void;
}

interface Live {
  slot: number;
  uid: number;
  /** The container the driver runs in: a new session container means the driver is gone. */
  sandboxId: string;
}

/** A context of a persistent DockerIsol8: one interpreter driver in the session's container. */
export class EngineContext implements Isol8Context {
  readonly id = randomUUID();
  private live: Live | null = null;
  private lost: ContextLostReason | null = null;
  private closed = false;
  private readonly createdAt = new Date();
  private lastUsedAt = new Date();
  private cells = 0;
  /** Cells run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly runtime: ContextRuntime,
    /** The image asked for at creation (undefined: the session's, else the runtime's). */
    private readonly image: string | undefined,
    private readonly host: ContextHost,
    private readonly nextSlot: () => number,
  ) {}

  get lastUsed(): number {
    return this.lastUsedAt.getTime();
  }

  info(): ContextInfo {
    return {
      id: this.id,
      runtime: this.runtime,
      state: this.lost || !this.live ? "lost" : "ready",
      ...(this.lost ? { lostReason: this.lost } : {}),
      createdAt: this.createdAt.toISOString(),
      lastUsedAt: this.lastUsedAt.toISOString(),
      cells: this.cells,
    };
  }

  /** Starts the driver (used by create and restart). */
  async open(): Promise<void> {
    await this.host.inSession(this.runtime, this.image, async (sandbox) => {
      const uid = this.host.takeUid();
      const slot = this.nextSlot();
      const limits = this.host.limits(undefined);
      const driver = contextDriver(this.runtime, { maxResultBytes: limits.maxResultBytes });
      try {
        const reply = await sandbox.channel.openContext({ slot, uid, ...driver, startTimeoutMs: this.host.startTimeoutMs });
        if (!reply.ok) {
          throw new ConflictError(
            `Cannot start a ${this.runtime} context: ${reply.error}${reply.stderr ? ` (${reply.stderr.trim().slice(0, 300)})` : ""}`,
            this.runtime === "bash" ? "check the session's image" : `use a session whose image has ${this.runtime}`,
          );
        }
        this.live = { slot, uid, sandboxId: sandbox.id };
        this.lost = null;
        this.host.log(`context ${this.id.slice(0, 8)} (${this.runtime}) started: pid ${reply.pid}, uid ${uid}`);
      } catch (error) {
        this.host.releaseUid(uid);
        throw error;
      }
    });
  }

  run(code: string, options: CellOptions = {}): Promise<CellResult> {
    const next = this.queue.then(() => this.runNow(code, options));
    this.queue = next.catch(() => {});
    return next;
  }

  async restart(): Promise<void> {
    this.assertOpen();
    const next = this.queue.then(async () => {
      await this.stopDriver();
      await this.open();
    });
    this.queue = next.catch(() => {});
    await next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.host.forget(this);
    const next = this.queue.then(() => this.stopDriver());
    this.queue = next.catch(() => {});
    await next;
  }

  /** Stops the driver because nobody used it for `idleMs`: its state is lost. */
  async stopIdle(): Promise<void> {
    const next = this.queue.then(async () => {
      if (!this.live) return;
      await this.stopDriver();
      this.lost = "idle";
    });
    this.queue = next.catch(() => {});
    await next;
  }

  /** The session's container went away: the driver went with it. */
  markGone(): void {
    if (this.live) this.host.releaseUid(this.live.uid);
    this.live = null;
    this.lost ??= "exited";
  }

  private assertOpen(): void {
    if (this.closed) throw new ConflictError(`Cannot use context "${this.id}": it was closed`, "create a new context");
  }

  private async stopDriver(): Promise<void> {
    const live = this.live;
    if (!live) return;
    this.live = null;
    try {
      await this.host.inSession(this.runtime, this.image, async (sandbox) => {
        if (sandbox.id === live.sandboxId) await sandbox.channel.closeContext(live.slot);
      });
    } catch (error) {
      this.host.log(`context ${this.id.slice(0, 8)}: cannot close its driver: ${(error as Error).message}`);
    } finally {
      this.host.releaseUid(live.uid);
    }
  }

  private async runNow(code: string, options: CellOptions): Promise<CellResult> {
    this.assertOpen();
    if (this.lost || !this.live) {
      throw new ConflictError(
        `Cannot run a cell in context "${this.id}": it was lost (${this.lost ?? "exited"}); its state is gone`,
        "restart it (context.restart(), POST .../restart, or :restart in the repl)",
      );
    }
    const live = this.live;
    const executionId = randomUUID();
    const abort = new AbortController();
    const forward = () => abort.abort();
    options.signal?.addEventListener("abort", forward, { once: true });
    if (options.signal?.aborted) abort.abort();
    this.host.cellStarted(executionId, abort);
    options.onStart?.(executionId);
    this.lastUsedAt = new Date();
    this.cells++;
    const started = performance.now();
    const limits = this.host.limits(options.timeoutMs);
    const outcome: CellOutcome = {
      executionId,
      contextId: this.id,
      stdout: "",
      stderr: "",
      results: [],
      resultTruncated: false,
      invalidFrame: false,
      artifacts: [],
    };
    const out = new StringDecoder("utf8");
    const err = new StringDecoder("utf8");
    try {
      const result = await this.host.inSession(this.runtime, this.image, async (sandbox) => {
        if (sandbox.id !== live.sandboxId) {
          this.markGone();
          throw new ConflictError(`Cannot run a cell in context "${this.id}": the session's container was replaced; its state is gone`, "restart it");
        }
        const report = await sandbox.channel.runCell(
          live.slot,
          limits,
          code,
          {
            onStdout: (chunk) => {
              const text = out.write(chunk);
              outcome.stdout += text;
              if (text) options.onStdout?.(text);
            },
            onStderr: (chunk) => {
              const text = err.write(chunk);
              outcome.stderr += text;
              if (text) options.onStderr?.(text);
            },
            onDriverFrame: (frame) => {
              const checked = checkDriverFrame(frame);
              if (checked.kind === "invalid") {
                // A broken result: stop the cell now; the context is killed once it reports.
                outcome.invalidFrame = true;
                abort.abort();
              }
              else if (checked.kind === "error") outcome.error ??= checked.error;
              else {
                outcome.results.push(checked.bundle);
                outcome.resultTruncated ||= checked.truncated;
                options.onResult?.(checked.bundle);
              }
            },
          },
          limits.timeoutMs + limits.graceMs + HOST_SLACK_MS,
          abort.signal,
        );
        outcome.stdout += out.end();
        outcome.stderr += err.end();
        if (report.status === "lost") {
          this.host.log(`context ${this.id.slice(0, 8)} lost (${report.reason}): driver exit ${report.driverExit}, signal ${report.driverSignal}`);
        }
        if (report.status === "lost" || outcome.invalidFrame) {
          if (report.status === "ok") await sandbox.channel.closeContext(live.slot);
          this.host.releaseUid(live.uid);
          this.live = null;
        }
        outcome.artifacts = await this.host.changedFiles(sandbox);
        return cellResult(outcome, report, Math.round(performance.now() - started));
      });
      if (result.contextLost) this.lost = result.contextLost.reason;
      this.host.audit(this, code, result, options);
      return result;
    } catch (error) {
      // The session's container broke (removed, unresponsive past the deadline): the driver is gone.
      if (!(error instanceof ConflictError)) this.markGone();
      throw error;
    } finally {
      options.signal?.removeEventListener("abort", forward);
      this.host.cellEnded(executionId);
    }
  }
}
