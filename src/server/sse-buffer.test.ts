import { describe, expect, test } from "bun:test";
import { createStreamBuffers, type EventFeed, eventSize } from "./sse-buffer";

/** A clock whose timers run when the test says. */
function manualClock() {
  let now = 0;
  let n = 0;
  const timers: { at: number; run: () => void }[] = [];
  return {
    now: () => now,
    newId: () => `s${++n}`,
    later: (ms: number, run: () => void) => void timers.push({ at: now + ms, run }),
    advance(ms: number) {
      now += ms;
      for (const timer of timers.splice(0)) {
        if (timer.at <= now) timer.run();
        else timers.push(timer);
      }
    },
  };
}

/** Reads a feed after `afterId` in the background: the frames (joined pieces) so far, and whether it ended. */
const collect = (feed: EventFeed, afterId: number) => {
  const reading = feed.read(afterId, 60_000);
  if (!reading) throw new Error("not kept");
  const frames: string[] = [];
  let ended = false;
  const done = (async () => {
    let frame = "";
    for await (const piece of reading.frames) {
      frame += piece;
      if (frame.endsWith("\n\n")) {
        frames.push(frame);
        frame = "";
      }
    }
    ended = true;
  })();
  return { frames, ended: () => ended, done, detach: reading.detach };
};
const ids = (frames: string[]) => frames.map((f) => f.split("\n")[0]);
/** Lets the background readers run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("stream buffers", () => {
  test("ids count 1, 2, 3 per stream; a reader after id n gets n+1 onwards, then the live events, then the end", async () => {
    const buffers = createStreamBuffers(undefined, manualClock());
    const feed = buffers.open("p");
    feed.push({ type: "stdout", data: "a" });
    feed.push({ type: "stdout", data: "b" });
    const late = collect(feed, 1);
    await settle();
    feed.push({ type: "stdout", data: "c" });
    buffers.finish(feed);
    await late.done;
    expect(ids(late.frames)).toEqual(["id: 2", "id: 3"]);
    expect(late.ended()).toBe(true);
    expect(buffers.open("p").id).not.toBe(feed.id);
  });

  test("a second reader replaces the first (the dropped connection) without a gap or a repeat", async () => {
    const readers: boolean[] = [];
    const buffers = createStreamBuffers(undefined, manualClock());
    const feed = buffers.open("p", (attached) => readers.push(attached));
    const first = collect(feed, 0);
    feed.push({ type: "stdout", data: "a" });
    await settle();
    const second = collect(feed, 1);
    feed.push({ type: "stdout", data: "b" });
    await first.done;
    await settle();
    expect(ids(first.frames)).toEqual(["id: 1"]);
    expect(first.ended()).toBe(true);
    expect(ids(second.frames)).toEqual(["id: 2"]);
    expect(readers).toEqual([true]); // never "no reader" in between
    second.detach();
    await second.done;
    expect(readers).toEqual([true, false]);
  });

  test("output files stay bytes until read: the exit frame carries them as base64", async () => {
    const buffers = createStreamBuffers(undefined, manualClock());
    const feed = buffers.open("p");
    const bytes = new Uint8Array(3000).fill(7);
    const summary = { files: { "a.bin": bytes } } as never;
    feed.push({ type: "exit", data: summary });
    expect(feed.bytes).toBe(eventSize({ type: "exit", data: summary }));
    expect(feed.bytes).toBeLessThan(3100); // the bytes, not their base64 text
    const reader = collect(feed, 0);
    buffers.finish(feed);
    await reader.done;
    const event = JSON.parse(reader.frames[0]!.split("\ndata: ")[1]!);
    expect(Buffer.from(event.data.files["a.bin"], "base64")).toEqual(Buffer.from(bytes));
  });

  test("the byte budget never drops an event the attached reader has not read", async () => {
    const buffers = createStreamBuffers({ keepMs: 60_000, maxStreams: 10, maxBytes: 100 }, manualClock());
    const feed = buffers.open("p");
    const reader = collect(feed, 0);
    for (let i = 0; i < 5; i++) feed.push({ type: "stdout", data: String(i).repeat(60) });
    buffers.finish(feed);
    await reader.done;
    expect(ids(reader.frames)).toEqual(["id: 1", "id: 2", "id: 3", "id: 4", "id: 5"]);
  });

  test("only its owner finds a stream; a finished one goes after keepMs", () => {
    const clock = manualClock();
    const buffers = createStreamBuffers({ keepMs: 1_000, maxStreams: 10, maxBytes: 1 << 20 }, clock);
    const feed = buffers.open("p");
    expect(buffers.get("q", feed.id)).toBeNull();
    buffers.finish(feed);
    clock.advance(999);
    expect(buffers.get("p", feed.id)).toBe(feed);
    clock.advance(1);
    expect(buffers.get("p", feed.id)).toBeNull();
  });

  test("bounded in count: the oldest finished stream goes first; running ones stay", () => {
    const buffers = createStreamBuffers({ keepMs: 60_000, maxStreams: 2, maxBytes: 1 << 20 }, manualClock());
    const running = buffers.open("p");
    const done = buffers.open("p");
    buffers.finish(done);
    const third = buffers.open("p");
    expect(buffers.get("p", done.id)).toBeNull();
    expect(buffers.get("p", running.id)).toBe(running);
    expect(buffers.get("p", third.id)).toBe(third);
  });

  test("bounded in bytes: finished streams go first, then a stream's own oldest events (a resume before them is refused)", () => {
    const frame = (text: string) => ({ type: "stdout" as const, data: text });
    const buffers = createStreamBuffers({ keepMs: 60_000, maxStreams: 10, maxBytes: 300 }, manualClock());
    const old = buffers.open("p");
    old.push(frame("x".repeat(100)));
    buffers.finish(old);
    const live = buffers.open("p");
    for (let i = 0; i < 5; i++) live.push(frame("y".repeat(80)));
    expect(buffers.get("p", old.id)).toBeNull();
    expect(buffers.stats().bytes).toBeLessThanOrEqual(300);
    expect(live.keeps(0)).toBe(false);
    expect(live.read(0, 60_000)).toBeNull();
    expect(live.keeps(4)).toBe(true);
  });
});
