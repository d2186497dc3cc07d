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
  create(spec: SandboxSpec, key: string): Promise<Sandbox>;
  destroy(sandbox: Sandbox): Promise<void>;
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
}

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
  private stopped = false;
  private cleaning = false;
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
      if (this.options.strategy === "secure" && sandbox.uses > 0 && !(await this.cleanOne(sandbox))) continue;
      this.busy.add(sandbox);
      bucket.busy++;
      return sandbox;
    }
    // Empty: never fail, start one cold (and top the pool up behind it).
    this.refill(bucket, prepared.key);
    bucket.busy++;
    try {
      const sandbox = await this.options.create(prepared.spec, prepared.key);
      this.busy.add(sandbox);
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
    if (bucket.dirty.length >= this.options.dirty || bucket.ready.length >= this.options.clean) {
      await this.discard(sandbox, "pool full");
      return;
    }
    bucket.dirty.push(sandbox);
    this.scheduleCleaning();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.busy];
    for (const bucket of this.buckets.values()) all.push(...bucket.ready.splice(0), ...bucket.dirty.splice(0));
    this.busy.clear();
    await Promise.allSettled(all.map((sandbox) => this.options.destroy(sandbox)));
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

  private bucket(spec: SandboxSpec, key: string): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { spec, ready: [], dirty: [], creating: 0, busy: 0 };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private usable(sandbox: Sandbox): boolean {
    return !sandbox.isDisposed && !sandbox.channel.broken && Date.now() - sandbox.createdAt < this.options.maxAgeMs;
  }

  /** Tops the bucket up to its target in the background (containers in use count: they come back). */
  private refill(bucket: Bucket, key: string): void {
    if (this.stopped) return;
    const missing = this.options.clean - bucket.ready.length - bucket.dirty.length - bucket.creating - bucket.busy;
    for (let i = 0; i < missing; i++) void this.createInto(bucket, key).catch(() => {});
  }

  private async createInto(bucket: Bucket, key: string): Promise<void> {
    bucket.creating++;
    try {
      const sandbox = await this.options.create(bucket.spec, key);
      if (this.stopped || bucket.ready.length >= this.options.clean) await this.options.destroy(sandbox);
      else bucket.ready.push(sandbox);
    } catch (error) {
      this.log(`pool: cannot start a container: ${(error as Error).message}`);
      throw error;
    } finally {
      bucket.creating--;
    }
  }

  private scheduleCleaning(): void {
    if (this.cleaning) return;
    this.cleaning = true;
    // Off the request path: the execution's result is already on its way.
    setImmediate(() => void this.cleanDirty());
  }

  private async cleanDirty(): Promise<void> {
    try {
      for (const [key, bucket] of this.buckets) {
        for (let sandbox = bucket.dirty.shift(); sandbox; sandbox = bucket.dirty.shift()) {
          if (this.stopped) {
            await this.discard(sandbox, "pool stopped");
            continue;
          }
          if (!(await this.cleanOne(sandbox))) continue;
          if (bucket.ready.length < this.options.clean && !this.stopped) bucket.ready.push(sandbox);
          else await this.discard(sandbox, "pool full");
        }
        this.refill(bucket, key);
      }
    } finally {
      this.cleaning = false;
      if (!this.stopped && [...this.buckets.values()].some((b) => b.dirty.length)) this.scheduleCleaning();
    }
  }

  /** Cleans and verifies a used container; destroys it when that fails. */
  private async cleanOne(sandbox: Sandbox): Promise<boolean> {
    try {
      const result = await sandbox.channel.clean();
      if (result.ok) return true;
      await this.discard(sandbox, `cleaning failed: ${result.detail}`);
    } catch (error) {
      await this.discard(sandbox, `cleaning failed: ${(error as Error).message}`);
    }
    return false;
  }

  private async discard(sandbox: Sandbox, why: string): Promise<void> {
    this.log(`pool: destroying ${sandbox.id.slice(0, 12)} (${why})`);
    await this.options.destroy(sandbox).catch(() => {});
  }
}
