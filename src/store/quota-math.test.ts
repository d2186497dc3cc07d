import { describe, expect, test } from "bun:test";
import { atQuota, dayOf, refill, secondsUntilNextDay, takeToken } from "./quota-math";

const T = Date.UTC(2030, 5, 1, 10, 0, 0);

describe("token bucket", () => {
  test.each([
    // [bucket, now, perMinute, tokens after refill]
    [null, T, 60, 60],
    [{ tokens: 0, at: T }, T + 1_000, 60, 1],
    [{ tokens: 0, at: T }, T + 500, 60, 0.5],
    [{ tokens: 59, at: T }, T + 10_000, 60, 60], // capped at a minute's worth
    [{ tokens: 2, at: T }, T - 5_000, 60, 2], // a clock that went back adds nothing
    [{ tokens: 0, at: T }, T + 30_000, 2, 1],
  ] as const)("refill(%j, +%d, %d/min) → %d tokens", (bucket, now, perMinute, tokens) => {
    expect(refill(bucket, now, { perMinute }).tokens).toBeCloseTo(tokens, 9);
  });

  test.each([
    // [tokens, perMinute, allowed, retryAfterSeconds]
    [1, 60, true, undefined],
    [0.99, 60, false, 1],
    [0, 60, false, 1],
    [0, 1, false, 60],
    [0.5, 1, false, 30],
    [0, 7, false, 9], // 60/7 = 8.57 s
  ] as const)("%d tokens at %d/min → allowed %p, retry after %p s", (tokens, perMinute, allowed, retry) => {
    const verdict = takeToken({ tokens, at: T }, T, { perMinute });
    expect(verdict.allowed).toBe(allowed);
    if (!verdict.allowed) expect(verdict.retryAfterSeconds).toBe(retry!);
    else expect(verdict.bucket.tokens).toBeCloseTo(tokens - 1, 9);
  });

  test("a refused take leaves the bucket as refilled (nothing taken)", () => {
    const verdict = takeToken({ tokens: 0.25, at: T }, T + 15_000, { perMinute: 1 });
    expect(verdict).toEqual({ allowed: false, bucket: { tokens: 0.5, at: T + 15_000 }, retryAfterSeconds: 30 });
  });

  test("n requests at once from a full bucket: exactly perMinute pass", () => {
    let bucket = null as null | { tokens: number; at: number };
    let passed = 0;
    for (let i = 0; i < 100; i++) {
      const verdict = takeToken(bucket, T, { perMinute: 30 });
      bucket = verdict.bucket;
      if (verdict.allowed) passed++;
    }
    expect(passed).toBe(30);
  });
});

describe("UTC days", () => {
  test.each([
    [Date.UTC(2030, 0, 1, 0, 0, 0), "2030-01-01", 86_400],
    [Date.UTC(2030, 0, 1, 23, 59, 59, 500), "2030-01-01", 1],
    [Date.UTC(2030, 11, 31, 12, 0, 0), "2030-12-31", 43_200],
    [Date.UTC(2032, 1, 28, 23, 0, 0), "2032-02-28", 3_600], // leap year: the 29th comes next
  ] as const)("%d is day %s, %d s before the next", (now, day, seconds) => {
    expect(dayOf(now)).toBe(day);
    expect(secondsUntilNextDay(now)).toBe(seconds);
  });
});

test.each([
  [0, undefined, false],
  [1000, undefined, false],
  [1, 2, false],
  [2, 2, true],
  [3, 2, true],
])("atQuota(%d, %p) → %p", (count, quota, at) => {
  expect(atQuota(count, quota)).toBe(at);
});
