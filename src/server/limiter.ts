/**
 * Server-wide execution slots: up to `max` run at once, up to `maxQueue` more wait in
 * line, and beyond that acquire() answers null (the caller sends 429).
 */
export class ExecutionLimiter {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly maxQueue: number,
  ) {}

  get inFlight(): number {
    return this.running + this.queue.length;
  }

  acquire(): Promise<() => void> | null {
    if (this.running < this.max) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueue) return null;
    return new Promise((resolve) => this.queue.push(() => resolve(this.releaser())));
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    };
  }
}
