// The events of each streamed execution, kept so a client whose connection dropped can resume
// with Last-Event-ID and get every event it missed exactly once. Event ids are 1, 2, 3, ... per
// stream. Events are kept as data (an exit event's output files as bytes) and encoded only as
// a reader pulls them, so a large output file is held once, never as base64 text. Bounded: a
// finished stream is kept `keepMs`, at most `maxStreams` streams are kept (the oldest finished
// go first) and all of them together hold at most `maxBytes` (beyond it the oldest finished
// streams go, then a stream's own oldest events that its reader already has).
import { encodeStreamEventChunks, SSE_HEARTBEAT } from "../protocol/sse";
import type { StreamEvent } from "../protocol/execution";

export interface StreamBufferLimits {
  /** How long a finished stream stays resumable. */
  keepMs: number;
  /** Streams kept at once (running ones are never evicted: the execution slots bound them). */
  maxStreams: number;
  /** Bytes of events kept across every stream (output files count their bytes). */
  maxBytes: number;
}

export const DEFAULT_STREAM_BUFFER_LIMITS: StreamBufferLimits = { keepMs: 60_000, maxStreams: 256, maxBytes: 64 * 1024 * 1024 };

/** An event as kept: its id and about how much memory it holds. */
interface Kept {
  id: number;
  event: StreamEvent<string | Uint8Array>;
  bytes: number;
}

/** About the memory an event holds: its text, and its output files' bytes. Pure. */
export function eventSize(event: StreamEvent<string | Uint8Array>): number {
  if (event.type !== "exit") return event.data.length + ("base64" in event && event.base64 ? event.base64.length : 0);
  const { files, ...rest } = event.data;
  const fileBytes = Object.entries(files ?? {}).reduce((sum, [path, content]) => sum + path.length + content.length, 0);
  return JSON.stringify(rest).length + fileBytes;
}

/** A reader of one stream: its frames as they are pulled, and a way to leave at once. */
export interface StreamReading {
  /** SSE frames (each event with its `id:`), a heartbeat after `heartbeatMs` without one; ends with the stream, or when another reader takes over. */
  frames: AsyncGenerator<string>;
  /** The client went away: this reader stops (its pending pull ends at once). */
  detach(): void;
}

/** One streamed execution's events. */
export class EventFeed {
  private readonly events: Kept[] = [];
  private nextId = 1;
  /** The reader now attached (0: none); a new one supersedes it. */
  private reader = 0;
  private readerCount = 0;
  /** The last id the attached reader has taken: events up to it may be dropped for the budget. */
  private delivered = 0;
  private readonly waiters = new Set<() => void>();
  /** Bytes of the events kept. */
  bytes = 0;
  finished = false;
  finishedAt = 0;

  constructor(
    readonly id: string,
    /** The principal that started it: only it may resume it. */
    readonly owner: string,
    private readonly changed: (deltaBytes: number, feed: EventFeed) => void,
    /** Told when the last reader left a running stream, and when a reader came back. */
    private readonly readers: (attached: boolean) => void = () => {},
    /** Stops the execution behind the stream (its client asked to). */
    readonly stop: () => void = () => {},
  ) {}

  /** Records an event; the attached reader, if any, pulls it. */
  push(event: StreamEvent<string | Uint8Array>): void {
    const bytes = eventSize(event);
    this.events.push({ id: this.nextId++, event, bytes });
    this.bytes += bytes;
    this.wake();
    this.changed(bytes, this);
  }

  /** The execution is over: the reader gets the end after the last event; the events stay for late resumes. */
  finish(now: number): void {
    this.finished = true;
    this.finishedAt = now;
    this.wake();
  }

  /**
   * Drops the oldest kept event for the byte budget; the bytes freed (0: none may go). With a
   * reader attached, only events it has already taken may go: the live client misses nothing.
   */
  dropOldest(): number {
    const oldest = this.events[0];
    if (!oldest || (this.reader !== 0 && oldest.id > this.delivered)) return 0;
    this.events.shift();
    this.bytes -= oldest.bytes;
    return oldest.bytes;
  }

  /** Is every event after `afterId` still kept? */
  keeps(afterId: number): boolean {
    return afterId + 1 >= (this.events[0]?.id ?? this.nextId);
  }

  /**
   * A reader after event `afterId` (0: from the start): every kept event after it, then each new
   * one, then the end. A previous reader ends (its connection is the one that dropped). Null
   * when an event after `afterId` is no longer kept.
   */
  read(afterId: number, heartbeatMs: number): StreamReading | null {
    if (!this.keeps(afterId)) return null;
    const token = ++this.readerCount;
    const hadReader = this.reader !== 0;
    this.reader = token;
    this.delivered = afterId;
    this.wake(); // a superseded reader wakes and ends
    if (!hadReader && !this.finished) this.readers(true);
    const detach = () => {
      if (this.reader !== token) return;
      this.reader = 0;
      this.wake();
      if (!this.finished) this.readers(false);
    };
    const feed = this;
    async function* frames(): AsyncGenerator<string> {
      let last = afterId;
      try {
        for (;;) {
          if (feed.reader !== token) return;
          const next = feed.events.find((kept) => kept.id > last);
          if (next) {
            last = next.id;
            feed.delivered = next.id;
            yield* encodeStreamEventChunks(next.event, String(next.id));
          } else if (feed.finished) {
            return;
          } else if (!(await feed.wait(heartbeatMs))) {
            yield SSE_HEARTBEAT;
          }
        }
      } finally {
        detach();
      }
    }
    return { frames: frames(), detach };
  }

  /** Waits for a change (true) or `ms` without one (false). */
  private wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const woken = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(woken);
        resolve(false);
      }, ms);
      this.waiters.add(woken);
    });
  }

  private wake(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const woken of waiting) woken();
  }
}

export interface StreamBuffers {
  /**
   * A new stream of `owner`; `readers` is told when its last reader leaves while it runs, and
   * when one comes back; `stop` stops its execution.
   */
  open(owner: string, readers?: (attached: boolean) => void, stop?: () => void): EventFeed;
  /** `owner`'s stream of that id, or null (unknown, evicted, or another principal's). */
  get(owner: string, id: string): EventFeed | null;
  /** The stream ended: kept for `keepMs`, then dropped. */
  finish(feed: EventFeed): void;
  /** Streams and bytes kept (tests, metrics). */
  stats(): { streams: number; bytes: number };
}

export function createStreamBuffers(
  limits: StreamBufferLimits = DEFAULT_STREAM_BUFFER_LIMITS,
  clock: { now(): number; newId(): string; later(ms: number, run: () => void): void } = {
    now: () => performance.now(),
    newId: () => crypto.randomUUID(),
    later: (ms, run) => void setTimeout(run, ms).unref?.(),
  },
): StreamBuffers {
  const feeds = new Map<string, EventFeed>();
  let bytes = 0;

  const drop = (feed: EventFeed) => {
    if (feeds.get(feed.id) !== feed) return;
    feeds.delete(feed.id);
    bytes -= feed.bytes;
  };
  /** The oldest finished stream, if any. */
  const oldestFinished = () => {
    let oldest: EventFeed | null = null;
    for (const feed of feeds.values()) if (feed.finished && (!oldest || feed.finishedAt < oldest.finishedAt)) oldest = feed;
    return oldest;
  };
  const changed = (delta: number, feed: EventFeed) => {
    bytes += delta;
    while (bytes > limits.maxBytes) {
      const victim = oldestFinished();
      if (victim && victim !== feed) {
        drop(victim);
        continue;
      }
      const freed = feed.dropOldest();
      if (!freed) break;
      bytes -= freed;
    }
  };

  return {
    open(owner, readers, stop) {
      while (feeds.size >= limits.maxStreams) {
        const victim = oldestFinished();
        if (!victim) break;
        drop(victim);
      }
      const feed = new EventFeed(clock.newId(), owner, changed, readers, stop);
      feeds.set(feed.id, feed);
      return feed;
    },
    get(owner, id) {
      const feed = feeds.get(id);
      return feed && feed.owner === owner ? feed : null;
    },
    finish(feed) {
      feed.finish(clock.now());
      clock.later(limits.keepMs, () => drop(feed));
    },
    stats: () => ({ streams: feeds.size, bytes }),
  };
}
