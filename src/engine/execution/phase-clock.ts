import type { Phase, PhaseTimings } from "../../protocol/execution";

/** Times the phases of one execution: each `enter` ends the phase before it. */
export class PhaseClock {
  private readonly spent: Record<Phase, number> = { queue: 0, acquire: 0, install: 0, run: 0, collect: 0 };
  private readonly started: number;
  private current: Phase = "queue";
  private since: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.started = this.since = now();
  }

  /** The phase the execution is in now. */
  get phase(): Phase {
    return this.current;
  }

  enter(phase: Phase): void {
    const t = this.now();
    this.spent[this.current] += t - this.since;
    this.current = phase;
    this.since = t;
  }

  /** Milliseconds since the clock started. */
  elapsedMs(): number {
    return Math.round(this.now() - this.started);
  }

  /** Time per phase so far (the current phase counted up to now), rounded to ms. */
  timings(): PhaseTimings {
    const spent = { ...this.spent };
    spent[this.current] += this.now() - this.since;
    return {
      queueMs: Math.round(spent.queue),
      acquireMs: Math.round(spent.acquire),
      installMs: Math.round(spent.install),
      runMs: Math.round(spent.run),
      collectMs: Math.round(spent.collect),
    };
  }
}
