import { randomInt } from "node:crypto";

/** An inclusive range of uids (config `security.sandboxUids`). */
export interface UidRange {
  from: number;
  to: number;
}

/** Random picks before a scan for a free uid (a nearly full small range). */
const RANDOM_TRIES = 16;

/**
 * Hands each container its own uid from a range. The kernel counts several limits per uid
 * (pending signals, inotify instances and watches, POSIX message-queue bytes, pipe buffers),
 * so containers with distinct uids do not share them.
 *
 * Within one engine no two live containers get the same uid while the range has a free one;
 * when every uid of the range is held, uids are shared (a range of one uid gives every
 * container that uid). Picks are random, so engines in separate processes drawing from the
 * same large range rarely meet.
 */
export class SandboxUids {
  /** uid → containers holding it. */
  private readonly held = new Map<number, number>();

  constructor(
    private readonly range: UidRange,
    /** An integer in [0, n): injectable for tests. */
    private readonly random: (n: number) => number = (n) => randomInt(n),
  ) {}

  /** A uid for a new container; give it back with release() when the container is gone. */
  take(): number {
    const uid = this.pick();
    this.held.set(uid, (this.held.get(uid) ?? 0) + 1);
    return uid;
  }

  release(uid: number): void {
    const count = this.held.get(uid) ?? 0;
    if (count <= 1) this.held.delete(uid);
    else this.held.set(uid, count - 1);
  }

  /** uids held by live containers (for tests). */
  get inUse(): number {
    return this.held.size;
  }

  private pick(): number {
    const { from, to } = this.range;
    const size = to - from + 1;
    for (let i = 0; i < RANDOM_TRIES; i++) {
      const uid = from + this.random(size);
      if (!this.held.has(uid)) return uid;
    }
    if (this.held.size < size) {
      const start = this.random(size);
      for (let i = 0; i < size; i++) {
        const uid = from + ((start + i) % size);
        if (!this.held.has(uid)) return uid;
      }
    }
    // Every uid is held: share the one held by the fewest containers.
    let best = from;
    let fewest = Number.POSITIVE_INFINITY;
    for (const [uid, count] of this.held) {
      if (count < fewest) [best, fewest] = [uid, count];
    }
    return best;
  }
}
