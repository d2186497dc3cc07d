/** Gives a slot back; calling it again does nothing. */
export type Release = () => void;

/**
 * Execution slots: up to `max` holders at once, up to `maxQueue` more waiting in FIFO order,
 * and beyond that acquire() answers null (a server turns that into 429). A released slot is
 * handed straight to the next waiter. Used by the engine (unbounded queue) and the server.
 *
 * Hand-written rather than p-limit/p-queue: those queue without bound and cannot refuse a
 * caller synchronously when the line is full, which is the point here.
 */
export class Slots {
  private holders = 0;
  private readonly queue: ((release: Release) => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly maxQueue = Number.POSITIVE_INFINITY,
  ) {}

  /** Slots held plus callers waiting for one. */
  get inFlight(): number {
    return this.holders + this.queue.length;
  }

  /** Callers waiting for a slot (the queue's depth). */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * A slot now or after the callers ahead; null when the queue is full. When `signal` aborts
   * while the caller still waits, it leaves the queue and the promise rejects with the
   * signal's reason (a slot granted at the same moment is passed on, never lost).
   */
  acquire(signal?: AbortSignal): Promise<Release> | null {
    if (this.holders < this.max) {
      this.holders++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueue) return null;
    return new Promise((resolve, reject) => {
      const waiter = (release: Release) => {
        signal?.removeEventListener("abort", leave);
        resolve(release);
      };
      const leave = () => {
        const at = this.queue.indexOf(waiter);
        if (at !== -1) this.queue.splice(at, 1);
        reject(signal!.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener("abort", leave, { once: true });
      this.queue.push(waiter);
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next(this.releaser());
      else this.holders--;
    };
  }
}
