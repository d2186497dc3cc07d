import { describe, expect, test } from "bun:test";
import { PhaseClock } from "./phase-clock";

describe("PhaseClock", () => {
  test("each phase gets the time until the next one starts; the current one counts up to now", () => {
    let t = 0;
    const clock = new PhaseClock(() => t);
    t = 5;
    clock.enter("acquire");
    t = 45;
    clock.enter("install");
    clock.enter("run");
    t = 145;
    expect(clock.phase).toBe("run");
    expect(clock.timings()).toEqual({ queueMs: 5, acquireMs: 40, installMs: 0, runMs: 100, collectMs: 0 });
    t = 150;
    clock.enter("collect");
    t = 152;
    expect(clock.timings()).toEqual({ queueMs: 5, acquireMs: 40, installMs: 0, runMs: 105, collectMs: 2 });
    expect(clock.elapsedMs()).toBe(152);
  });
});
