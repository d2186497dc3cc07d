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

  /** A slot now or after the callers ahead; null when the queue is full. */
  acquire(): Promise<Release> | null {
    if (this.holders < this.max) {
      this.holders++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueue) return null;
    return new Promise((resolve) => this.queue.push(resolve));
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
