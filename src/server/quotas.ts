// A key's quotas on the way of its requests: the rate (a token bucket per key), running
// executions (leases in the store, counted across live instances), CPU seconds per UTC day
// (from each result's resourceUsage.cpuTimeMs) and sessions (the session directory, counted in
// the store when a session is claimed). Bootstrap keys have none. Over a quota: 429 with
// Retry-After and the quota's name in the body (`quota`).
import { randomUUID } from "node:crypto";
import type { QuotaName, Usage } from "../protocol/tenancy";
import { bucketNow } from "../store/key-store";
import { dayOf, secondsUntilNextDay } from "../store/quota-math";
import { HttpError } from "./http";
import type { Instance } from "./instance";
import type { Caller, KeyService } from "./key-service";

/** How long a caller over its concurrency or session quota is told to wait. */
const BUSY_RETRY_SECONDS = 1;

export function quotaExceeded(quota: QuotaName, message: string, retryAfterSeconds: number): HttpError {
  return new HttpError(429, `quota "${quota}" reached: ${message}`, { code: "quota-exceeded", quota, retryable: true }, { "retry-after": String(retryAfterSeconds) });
}

export interface QuotaService {
  /** One request of the caller (its rate quota). */
  request(caller: Caller): Promise<void>;
  /** An execution starts: checks the CPU-day quota, takes a concurrency lease; the returned function ends it with its CPU time. */
  execution(caller: Caller): Promise<(cpuTimeMs: number | null) => Promise<void>>;
  usage(caller: Caller): Promise<Usage>;
}

export function createQuotaService(options: { keys: KeyService; instance: Instance; now?: () => number; log: (line: string) => void }): QuotaService {
  const now = options.now ?? Date.now;
  const store = () => options.keys.store();
  return {
    async request(caller) {
      const perMinute = caller.quotas.requestsPerMinute;
      if (caller.keyId === null || perMinute === undefined) return;
      const verdict = await (await store()).takeToken(caller.keyId, { perMinute }, now());
      if (!verdict.allowed) throw quotaExceeded("requestsPerMinute", `${perMinute} requests per minute`, verdict.retryAfterSeconds);
    },
    async execution(caller) {
      const keyId = caller.keyId;
      if (keyId === null) return async () => {};
      const { maxConcurrent, cpuSecondsPerDay } = caller.quotas;
      const db = await store();
      const at = now();
      const lease = { id: randomUUID(), keyId, instanceId: options.instance.id };
      // Both checks at once: a request pays one database round trip for them, not two.
      const [cpuMs, leased] = await Promise.all([
        cpuSecondsPerDay === undefined ? Promise.resolve(0) : db.cpuToday(keyId, at),
        db.acquireLease(lease, maxConcurrent, options.instance.liveSince(), at),
      ]);
      if (cpuSecondsPerDay !== undefined && cpuMs >= cpuSecondsPerDay * 1000) {
        if (leased) await db.releaseLease(lease.id);
        throw quotaExceeded("cpuSecondsPerDay", `${cpuSecondsPerDay} CPU seconds used today (UTC)`, secondsUntilNextDay(at));
      }
      if (!leased) throw quotaExceeded("maxConcurrent", `${maxConcurrent} executions running`, BUSY_RETRY_SECONDS);
      let ended = false;
      return async (cpuTimeMs) => {
        if (ended) return;
        ended = true;
        // Accounting never fails the answer: the execution ran. Both writes at once.
        await Promise.all([
          db.releaseLease(lease.id).catch((error) => options.log(`key store: cannot release an execution lease: ${(error as Error).message}`)),
          db.addUsage(keyId, cpuTimeMs ?? 0, now()).catch((error) => options.log(`key store: cannot record usage: ${(error as Error).message}`)),
        ]);
      };
    },
    async usage(caller) {
      const at = now();
      const counts =
        caller.keyId === null
          ? { concurrent: 0, sessions: 0, cpuMs: 0, executions: 0, bucket: null }
          : await (await store()).usage(caller.keyId, caller.principal, options.instance.liveSince(), at);
      const perMinute = caller.quotas.requestsPerMinute;
      return {
        principal: caller.principal,
        admin: caller.admin,
        day: dayOf(at),
        usage: {
          concurrent: counts.concurrent,
          sessions: counts.sessions,
          cpuSeconds: counts.cpuMs / 1000,
          executions: counts.executions,
          requestsLeft: perMinute === undefined ? null : Math.floor(bucketNow(counts.bucket, at, { perMinute }).tokens),
        },
        quotas: caller.quotas,
        policy: caller.policy,
      };
    },
  };
}

