import { describe, expect, test } from "bun:test";
import { Deadline } from "./deadline";

/** A clock the test moves by hand. */
function fakeClock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe("Deadline", () => {
  test("remaining and passed follow the clock", () => {
    const clock = fakeClock();
    const deadline = Deadline.after(500, clock.now);
    expect(deadline.remaining()).toBe(500);
    expect(deadline.passed).toBe(false);
    clock.advance(499);
    expect(deadline.remaining()).toBe(1);
    clock.advance(1);
    expect(deadline.passed).toBe(true);
    clock.advance(100);
    expect(deadline.remaining()).toBe(0);
  });

  test("race: work that settles first gives its value", async () => {
    const deadline = Deadline.after(10_000);
    expect(await deadline.race(Promise.resolve(7))).toEqual({ done: true, value: 7 });
  });

  test("race: a rejection before the deadline is passed on", async () => {
    const deadline = Deadline.after(10_000);
    await expect(deadline.race(Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  });

  test("race: work that never settles gives done false once the deadline (and grace) passed", async () => {
    const clock = fakeClock();
    const deadline = Deadline.after(0, clock.now);
    const never = new Promise<number>(() => {});
    expect(await deadline.race(never)).toEqual({ done: false });
    expect(await deadline.race(never, 1)).toEqual({ done: false });
  });
});
