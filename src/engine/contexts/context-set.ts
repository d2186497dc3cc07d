import { ConflictError, RequestError } from "../../errors";
import type { Isol8Config } from "../../config/schema";
import {
  type CellOptions,
  type CellResult,
  type ContextInfo,
  type ContextRuntime,
  type CreateContextRequest,
  CreateContextRequestSchema,
  validateContextBody,
} from "../../protocol/context";
import { parseSize } from "../../protocol/sizes";
import type { Sandbox } from "../sandbox";
import type { CellLimits } from "../supervisor/context-frames";
import type { CellOutcome } from "./cell-collector";
import { type ContextHost, EngineContext } from "./engine-context";

export interface ContextSetDeps {
  config: Isol8Config["contexts"];
  /** The engine's execution defaults: a cell's timeout and output cap. */
  defaults: { timeoutMs: number; maxOutputBytes: number };
  inSession<T>(runtime: ContextRuntime, image: string | undefined, work: (sandbox: Sandbox) => Promise<T>): Promise<T>;
  takeUid(): number;
  releaseUid(uid: number): void;
  changedFiles(sandbox: Sandbox): Promise<CellOutcome["artifacts"]>;
  audit(context: EngineContext, code: string, result: CellResult, options: CellOptions): void;
  log(line: string): void;
}

/** The contexts of one persistent engine: creation under its cap, listing, cancel by id, idle stops. */
export class ContextSet {
  private readonly contexts = new Map<string, EngineContext>();
  private readonly running = new Map<string, AbortController>();
  private slot = 0;
  private idleTimer: ReturnType<typeof setInterval> | null = null;
  private readonly host: ContextHost;

  constructor(private readonly deps: ContextSetDeps) {
    const config = deps.config;
    this.host = {
      inSession: deps.inSession,
      takeUid: deps.takeUid,
      releaseUid: deps.releaseUid,
      startTimeoutMs: config.startTimeoutMs,
      limits: (timeoutMs): CellLimits => ({
        timeoutMs: timeoutMs ?? deps.defaults.timeoutMs,
        graceMs: config.interruptGraceMs,
        maxOutputBytes: deps.defaults.maxOutputBytes,
        maxResultBytes: parseSize(config.maxResultBytes) ?? 8 << 20,
        maxResultsBytes: parseSize(config.maxResultsBytes) ?? 32 << 20,
      }),
      changedFiles: deps.changedFiles,
      audit: deps.audit,
      cellStarted: (id, abort) => this.running.set(id, abort),
      cellEnded: (id) => this.running.delete(id),
      forget: (context) => this.contexts.delete(context.id),
      log: deps.log,
    };
  }

  async create(request: CreateContextRequest = {}): Promise<EngineContext> {
    const { runtime = "python", image } = validateContextBody(CreateContextRequestSchema, request);
    if (this.contexts.size >= this.deps.config.maxPerSession) {
      throw new ConflictError(
        `Cannot create a context: the session has ${this.contexts.size} (contexts.maxPerSession is ${this.deps.config.maxPerSession})`,
        "close one first",
      );
    }
    const context = new EngineContext(runtime, image, this.host, () => ++this.slot);
    this.contexts.set(context.id, context);
    try {
      await context.open();
    } catch (error) {
      this.contexts.delete(context.id);
      throw error;
    }
    this.watchIdle();
    return context;
  }

  get(id: string): EngineContext {
    const context = this.contexts.get(id);
    if (!context) throw new RequestError(`Cannot find context "${id}": there is none with that id in this session`, "contextId");
    return context;
  }

  list(): ContextInfo[] {
    return [...this.contexts.values()].map((context) => context.info());
  }

  /** Interrupts the running cell with this execution id. */
  cancel(executionId: string): boolean {
    const abort = this.running.get(executionId);
    abort?.abort();
    return abort !== undefined;
  }

  /** The session's container is gone (deleted, lost): every driver went with it. */
  containerGone(): void {
    for (const context of this.contexts.values()) context.markGone();
  }

  /** The engine stops (its container is removed with every driver): forget every context. */
  dispose(): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
    this.containerGone();
    this.contexts.clear();
  }

  async closeAll(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
    await Promise.allSettled([...this.contexts.values()].map((context) => context.close()));
  }

  private watchIdle(): void {
    if (this.idleTimer) return;
    const idleMs = this.deps.config.idleMs;
    this.idleTimer = setInterval(() => {
      const now = Date.now();
      for (const context of this.contexts.values()) {
        if (now - context.lastUsed >= idleMs && context.info().state === "ready") {
          this.deps.log(`context ${context.id.slice(0, 8)} idle for ${idleMs} ms: stopped`);
          void context.stopIdle();
        }
      }
    }, Math.max(50, Math.min(60_000, Math.floor(idleMs / 4))));
    this.idleTimer.unref?.();
  }
}
