import type { SandboxSpec } from "../container-options";
import type { PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";
import type { SandboxProvider } from "./provider";

export type PoolStrategy = "fast" | "secure";

export interface PoolOptions {
  strategy: PoolStrategy;
  /** Started containers kept ready per container kind (`fast`: cleaned; `secure`: cleaned on acquire). */
  clean: number;
  /** Used containers waiting to be cleaned in the background (`fast` only). */
  dirty: number;
  /** Containers older than this are destroyed instead of reused. */
  maxAgeMs: number;
  /** Used containers cleaned at the same time (`fast`); default CLEANERS. */
  cleaners?: number;
  create(spec: SandboxSpec, key: string): Promise<Sandbox>;
  destroy(sandbox: Sandbox): Promise<void>;
  /** Why a container its clean left verified should still not serve again (null: it may); asked after every clean. */
  reuseProblem?(sandbox: Sandbox, spec: SandboxSpec): string | null;
  log?: (line: string) => void;
}

interface Bucket {
  spec: SandboxSpec;
  /** Ready to hand out (fast: cleaned and verified; secure: waiting for clean-on-acquire). */
  ready: Sandbox[];
  /** Used, waiting for the background cleaner (fast). */
  dirty: Sandbox[];
  creating: number;
  /** Handed out and expected back. */
  busy: number;
  /** Being cleaned right now. */
  cleaning: number;
  /** Callers waiting for a container that is being cleaned. */
  waiters: ((sandbox: Sandbox | null) => void)[];
}

/** How long a caller waits for a container being cleaned before starting one cold. */
const HANDOFF_WAIT_MS = 2_000;

/**
 * Used containers cleaned at the same time by default. A clean is mostly waiting for the
 * container's supervisor: one at a time, busy callers queue behind it (measured by
 * bench/throughput, 10 callers on 2 cores); a few at once keep the cleaning off their path.
 */
export const CLEANERS = 4;

/**
 * Warm containers per container kind (same image, limits, network and seccomp).
 *
 * - `fast`: a used container goes to the dirty list and is cleaned and verified in the
 *   background; acquire takes a verified one, so cleaning is off the request path.
 * - `secure`: a used container is cleaned and verified on acquire, right before use.
 *
 * An empty pool never fails a request: a container is created cold. Containers whose
 * cleaning or verification fails are destroyed, never reused.
 */
export class SandboxPool implements SandboxProvider {
  private readonly buckets = new Map<string, Bucket>();
  private readonly busy = new Set<Sandbox>();
  /** Containers being destroyed after the pool let them go (awaited by stop). */
  private readonly discarding = new Set<Promise<void>>();
  /** Cleanings in progress (stop waits for them: a container being cleaned is in no list). */
  private readonly cleanings = new Set<Promise<void>>();
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** Containers being created: stop() waits for them, so none appears after it returns. */
  private readonly inCreation = new Set<Promise<unknown>>();
  private readonly log: (line: string) => void;

  constructor(private readonly options: PoolOptions) {
    this.log = options.log ?? (() => {});
  }

  /** Starts containers of this kind until `clean` are ready; resolves when they are. */
  async prewarm(spec: SandboxSpec, key: string): Promise<void> {
    const bucket = this.bucket(spec, key);
    const missing = this.options.clean - bucket.ready.length - bucket.creating;
    await Promise.all(Array.from({ length: Math.max(0, missing) }, () => this.createInto(bucket, key)));
  }

  async acquire(prepared: PreparedExecution): Promise<Sandbox> {
    const bucket = this.bucket(prepared.spec, prepared.key);
    for (;;) {
      const sandbox = bucket.ready.shift();
      if (!sandbox) break;
      if (!this.usable(sandbox)) {
        await this.discard(sandbox, "expired or broken");
        continue;
      }
      if (this.options.strategy === "secure" && sandbox.uses > 0 && !(await this.cleanOne(sandbox, bucket.spec))) continue;
      this.busy.add(sandbox);
      bucket.busy++;
      return sandbox;
    }
    // A used container is being cleaned: it is ready in milliseconds, much sooner than a cold start.
    if (this.options.strategy === "fast" && bucket.dirty.length + bucket.cleaning > bucket.waiters.length) {
      const handed = await this.waitForHandoff(bucket);
      if (handed) {
        this.busy.add(handed);
        bucket.busy++;
        return handed;
      }
    }
    // Empty: never fail, start one cold (and top the pool up behind it; this one counts as coming back).
    bucket.busy++;
    this.refill(bucket, prepared.key);
    try {
      const sandbox = await this.options.create(prepared.spec, prepared.key);
      this.busy.add(sandbox);
      this.watch(bucket, sandbox);
      return sandbox;
    } catch (error) {
      bucket.busy--;
      throw error;
    }
  }

  async release(sandbox: Sandbox, reusable: boolean): Promise<void> {
    this.busy.delete(sandbox);
    const bucket = this.buckets.get(sandbox.key);
    if (bucket) bucket.busy--;
    if (!reusable || this.stopped || !bucket || !this.usable(sandbox)) {
      await this.discard(sandbox, reusable ? "not reusable" : "execution not proven clean");
      if (bucket) this.refill(bucket, sandbox.key);
      return;
    }
    if (this.options.strategy === "secure") {
      if (bucket.ready.length < this.options.clean) bucket.ready.push(sandbox);
      else await this.discard(sandbox, "pool full");
      return;
    }
    const wanted = bucket.waiters.length > bucket.dirty.length + bucket.cleaning;
    if (!wanted && (bucket.dirty.length >= this.options.dirty || bucket.ready.length >= this.options.clean)) {
      await this.discard(sandbox, "pool full");
      return;
    }
    bucket.dirty.push(sandbox);
    this.scheduleCleaning();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.idleWaiters.splice(0)) wake();
    for (const bucket of this.buckets.values()) for (const wake of bucket.waiters.splice(0)) wake(null);
    // Creations in flight destroy their container themselves once they see `stopped`.
    while (this.inCreation.size) await Promise.allSettled([...this.inCreation]);
    // A container being cleaned is discarded when its cleaning ends (deliver sees `stopped`).
    while (this.cleanings.size) await Promise.allSettled([...this.cleanings]);
    const all = [...this.busy];
    for (const bucket of this.buckets.values()) all.push(...bucket.ready.splice(0), ...bucket.dirty.splice(0));
    this.busy.clear();
    // A release that let its container go just before (pool full, not reusable) may still be
    // removing it: the pool has stopped only once that is done too.
    await Promise.allSettled([...all.map((sandbox) => this.options.destroy(sandbox)), ...this.discarding]);
  }

  /** Destroys the idle containers (ready and dirty); the pool keeps working and refills on demand. */
  async clear(): Promise<number> {
    const idle: Sandbox[] = [];
    for (const bucket of this.buckets.values()) idle.push(...bucket.ready.splice(0), ...bucket.dirty.splice(0));
    await Promise.allSettled(idle.map((sandbox) => this.options.destroy(sandbox)));
    return idle.length;
  }

  /** Resolves when no used container is waiting to be cleaned and no container is being created. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.cleanings.size === 0 && [...this.buckets.values()].every((b) => b.dirty.length === 0 && b.creating === 0);
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Counts per state, for tests and benchmarks. */
  stats(): { ready: number; dirty: number; busy: number; creating: number } {
    let ready = 0;
    let dirty = 0;
    let creating = 0;
    for (const bucket of this.buckets.values()) {
      ready += bucket.ready.length;
      dirty += bucket.dirty.length;
      creating += bucket.creating;
    }
    return { ready, dirty, busy: this.busy.size, creating };
  }

  /** Counts per state for each group of kinds (`groupOf` names a kind's group, e.g. its runtime). */
  statsBy(groupOf: (spec: SandboxSpec) => string): Record<string, { ready: number; dirty: number; busy: number; creating: number }> {
    const groups: Record<string, { ready: number; dirty: number; busy: number; creating: number }> = {};
    for (const bucket of this.buckets.values()) {
      const group = (groups[groupOf(bucket.spec)] ??= { ready: 0, dirty: 0, busy: 0, creating: 0 });
      group.ready += bucket.ready.length;
      group.dirty += bucket.dirty.length;
      group.busy += bucket.busy;
      group.creating += bucket.creating;
    }
    return groups;
  }

  private bucket(spec: SandboxSpec, key: string): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { spec, ready: [], dirty: [], creating: 0, busy: 0, cleaning: 0, waiters: [] };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private usable(sandbox: Sandbox): boolean {
    return !sandbox.isDisposed && !sandbox.channel.broken && Date.now() - sandbox.createdAt < this.options.maxAgeMs;
  }

  /** Tops the bucket up to its target in the background (containers in use count: they come back). */
  /**
   * A container that dies while it waits in the pool (killed, removed, Docker restarted) is
   * removed and replaced at once, not left stopped until a caller happens to pick it.
   */
  private watch(bucket: Bucket, sandbox: Sandbox): void {
    sandbox.channel.whenBroken(() => {
      for (const list of [bucket.ready, bucket.dirty]) {
        const i = list.indexOf(sandbox);
        if (i === -1) continue;
        list.splice(i, 1);
        void this.discard(sandbox, "its container died while idle").then(() => this.refill(bucket, sandbox.key));
        return;
      }
    });
  }

  private refill(bucket: Bucket, key: string): void {
    if (this.stopped) return;
    const missing = this.options.clean - bucket.ready.length - bucket.dirty.length - bucket.creating - bucket.busy;
    for (let i = 0; i < missing; i++) void this.createInto(bucket, key).catch(() => {});
  }

  private async createInto(bucket: Bucket, key: string): Promise<void> {
    bucket.creating++;
    const creation = this.options.create(bucket.spec, key);
    this.inCreation.add(creation);
    void creation.catch(() => {}).finally(() => this.inCreation.delete(creation));
    try {
      const sandbox = await creation;
      if (this.stopped || bucket.ready.length >= this.options.clean) await this.options.destroy(sandbox);
      else {
        bucket.ready.push(sandbox);
        this.watch(bucket, sandbox);
      }
    } catch (error) {
      this.log(`pool: cannot start a container: ${(error as Error).message}`);
      throw error;
    } finally {
      bucket.creating--;
      this.notifyIdle();
    }
  }

  private waitForHandoff(bucket: Bucket): Promise<Sandbox | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = bucket.waiters.indexOf(give);
        if (i !== -1) bucket.waiters.splice(i, 1);
        resolve(null);
      }, HANDOFF_WAIT_MS);
      timer.unref?.();
      const give = (sandbox: Sandbox | null) => {
        clearTimeout(timer);
        resolve(sandbox);
      };
      bucket.waiters.push(give);
    });
  }

  /** A cleaned container goes to a waiting caller first, else to the ready list (or away when full). */
  private async deliver(bucket: Bucket, sandbox: Sandbox): Promise<void> {
    const waiter = bucket.waiters.shift();
    if (waiter) waiter(sandbox);
    else if (this.stopped) await this.discard(sandbox, "pool stopped");
    else if (bucket.ready.length < this.options.clean) bucket.ready.push(sandbox);
    else await this.discard(sandbox, "pool full");
  }

  /** Starts cleaning used containers, up to `cleaners` at a time; each one that ends starts the next. */
  private scheduleCleaning(): void {
    const most = this.options.cleaners ?? CLEANERS;
    for (const [key, bucket] of this.buckets) {
      while (this.cleanings.size < most && bucket.dirty.length > 0) {
        const sandbox = bucket.dirty.shift()!;
        bucket.cleaning++;
        const cleaning = this.cleanUsed(bucket, key, sandbox).finally(() => {
          this.cleanings.delete(cleaning);
          if (!this.stopped) this.scheduleCleaning();
          this.notifyIdle();
        });
        this.cleanings.add(cleaning);
      }
    }
  }

  private async cleanUsed(bucket: Bucket, key: string, sandbox: Sandbox): Promise<void> {
    // Off the request path: the execution's result is already on its way.
    await new Promise((resolve) => setImmediate(resolve));
    let ok = false;
    try {
      if (this.stopped) await this.discard(sandbox, "pool stopped");
      else ok = await this.cleanOne(sandbox, bucket.spec);
    } finally {
      bucket.cleaning--;
    }
    if (ok) await this.deliver(bucket, sandbox);
    else for (const wake of bucket.waiters.splice(0, Math.max(0, bucket.waiters.length - bucket.dirty.length - bucket.cleaning))) wake(null);
    this.refill(bucket, key);
  }

  /** Cleans and verifies a used container; destroys it when that fails or it should not serve again (reuseProblem). */
  private async cleanOne(sandbox: Sandbox, spec: SandboxSpec): Promise<boolean> {
    try {
      const result = await sandbox.channel.clean();
      if (!result.ok) {
        await this.discard(sandbox, `cleaning failed: ${result.detail}`);
        return false;
      }
      const problem = this.options.reuseProblem?.(sandbox, spec) ?? null;
      if (problem === null) return true;
      await this.discard(sandbox, problem);
    } catch (error) {
      await this.discard(sandbox, `cleaning failed: ${(error as Error).message}`);
    }
    return false;
  }

  /** Destroys a container the pool lets go of; stop() waits for every one still going. */
  private async discard(sandbox: Sandbox, why: string): Promise<void> {
    this.log(`pool: destroying ${sandbox.id.slice(0, 12)} (${why})`);
    const destroyed = this.options.destroy(sandbox).catch(() => {});
    this.discarding.add(destroyed);
    try {
      await destroyed;
    } finally {
      this.discarding.delete(destroyed);
    }
  }
}
