/** The outcome of work raced against a deadline. */
export type Raced<T> = { done: true; value: T } | { done: false };

/**
 * A point in time work must finish by (monotonic clock). `race` never cancels the work it
 * races: the caller decides what to do with work that finishes late (e.g. dispose of it).
 */
export class Deadline {
  private constructor(
    /** performance.now() at which the deadline passes. */
    readonly at: number,
    private readonly now: () => number,
  ) {}

  /** A deadline `ms` from now. */
  static after(ms: number, now: () => number = () => performance.now()): Deadline {
    return new Deadline(now() + ms, now);
  }

  /** Milliseconds left (0 once passed). */
  remaining(): number {
    return Math.max(0, this.at - this.now());
  }

  get passed(): boolean {
    return this.now() >= this.at;
  }

  /**
   * The work's value if it settles before the deadline plus `graceMs`, else `{ done: false }`.
   * A rejection before the deadline is passed on; one after it is swallowed (nobody waits).
   */
  race<T>(work: Promise<T>, graceMs = 0): Promise<Raced<T>> {
    const wait = this.remaining() + graceMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve({ done: false }), wait);
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve({ done: true, value });
        },
        (error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}
