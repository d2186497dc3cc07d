// The arithmetic of quotas, pure and table-tested: the token bucket of a rate quota, the UTC day
// CPU seconds are counted in, and how long a refused caller should wait (Retry-After).

/** A token bucket: `tokens` at time `at` (ms). */
export interface Bucket {
  tokens: number;
  at: number;
}

/** `perMinute` requests a minute: the bucket holds a minute's worth and refills continuously. */
export interface RateRule {
  perMinute: number;
}

export type TokenVerdict = { allowed: true; bucket: Bucket } | { allowed: false; bucket: Bucket; retryAfterSeconds: number };

/** The bucket at `now`: refilled for the time since `at`, never above capacity (a clock that went back adds nothing). */
export function refill(bucket: Bucket | null, now: number, rule: RateRule): Bucket {
  if (!bucket) return { tokens: rule.perMinute, at: now };
  const elapsed = Math.max(0, now - bucket.at);
  return { tokens: Math.min(rule.perMinute, bucket.tokens + (elapsed * rule.perMinute) / 60_000), at: Math.max(now, bucket.at) };
}

/** Takes one token at `now`, or says how many whole seconds until one is there. */
export function takeToken(bucket: Bucket | null, now: number, rule: RateRule): TokenVerdict {
  const current = refill(bucket, now, rule);
  if (current.tokens >= 1) return { allowed: true, bucket: { tokens: current.tokens - 1, at: current.at } };
  return { allowed: false, bucket: current, retryAfterSeconds: retryAfterSeconds(current, rule) };
}

/** Whole seconds (at least 1) until a bucket that lacks a token has one. */
export function retryAfterSeconds(bucket: Bucket, rule: RateRule): number {
  const wait = (1 - bucket.tokens) * (60_000 / rule.perMinute);
  return Math.max(1, Math.ceil(wait / 1000));
}

/** The UTC day of a time (YYYY-MM-DD): CPU seconds per day are counted per this day. */
export function dayOf(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** Whole seconds (at least 1) until the next UTC day starts. */
export function secondsUntilNextDay(now: number): number {
  const next = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - now) / 1000));
}

/** Is a count at or over its quota? An absent quota never is. */
export function atQuota(count: number, quota: number | undefined): boolean {
  return quota !== undefined && count >= quota;
}
