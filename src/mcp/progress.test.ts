import { describe, expect, test } from "bun:test";
import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import { createProgressReporter, type ProgressClock } from "./progress";

/** A clock that moves only when told: timers run in due order as `advance` passes them. */
function fakeClock(): ProgressClock & { advance(ms: number): void; timers(): number } {
  let now = 0;
  let next = 0;
  const timers = new Map<number, { due: number; run: () => void; every?: number }>();
  return {
    now: () => now,
    setTimeout: (run, ms) => (timers.set(++next, { due: now + ms, run }), next),
    clearTimeout: (handle) => void timers.delete(handle as number),
    setInterval: (run, ms) => (timers.set(++next, { due: now + ms, run, every: ms }), next),
    clearInterval: (handle) => void timers.delete(handle as number),
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.due <= until).sort((a, b) => a[1].due - b[1].due)[0];
        if (!due) break;
        const [id, timer] = due;
        now = timer.due;
        if (timer.every) timer.due += timer.every;
        else timers.delete(id);
        timer.run();
      }
      now = until;
    },
    timers: () => timers.size,
  };
}

const recorder = () => {
  const sent: ServerNotification[] = [];
  return { sent, send: async (n: ServerNotification) => void sent.push(n) };
};

describe("createProgressReporter", () => {
  test("without a progress token nothing is sent and no timer starts", () => {
    const clock = fakeClock();
    const { sent, send } = recorder();
    const reporter = createProgressReporter(undefined, send, { intervalMs: 0, clock });
    reporter.report("x");
    clock.advance(60_000);
    reporter.stop();
    expect(sent).toEqual([]);
    expect(clock.timers()).toBe(0);
  });

  test("output is sent as the message, coalesced within the interval, with rising progress; nothing after stop", () => {
    const clock = fakeClock();
    const { sent, send } = recorder();
    const reporter = createProgressReporter("t1", send, { intervalMs: 20, heartbeatMs: 60_000, clock });
    reporter.report("a");
    reporter.report("ab");
    clock.advance(40);
    reporter.report("abc");
    clock.advance(40);
    reporter.stop();
    reporter.report("abcd");
    clock.advance(120_000);
    expect(sent.map((n) => n.params)).toEqual([
      { progressToken: "t1", progress: 1, message: "ab" },
      { progressToken: "t1", progress: 2, message: "abc" },
    ]);
    expect(clock.timers()).toBe(0);
  });

  test("output right after a notification waits for the rest of the interval", () => {
    const clock = fakeClock();
    const { sent, send } = recorder();
    const reporter = createProgressReporter("t", send, { intervalMs: 100, heartbeatMs: 60_000, clock });
    reporter.report("a");
    clock.advance(100);
    expect(sent).toHaveLength(1);
    reporter.report("ab");
    clock.advance(99);
    expect(sent).toHaveLength(1);
    clock.advance(1);
    expect(sent.map((n) => (n.params as { message: string }).message)).toEqual(["a", "ab"]);
    reporter.stop();
  });

  test("a silent run gets a heartbeat per heartbeat interval, saying how long it has run", () => {
    const clock = fakeClock();
    const { sent, send } = recorder();
    const reporter = createProgressReporter(7, send, { heartbeatMs: 5_000, clock });
    clock.advance(4_999);
    expect(sent).toEqual([]);
    clock.advance(10_001);
    reporter.stop();
    expect(sent.map((n) => n.params)).toEqual([
      { progressToken: 7, progress: 1, message: "running (5 s)" },
      { progressToken: 7, progress: 2, message: "running (10 s)" },
      { progressToken: 7, progress: 3, message: "running (15 s)" },
    ]);
  });
});
