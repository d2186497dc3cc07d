// THE key store: API keys (as hashes), quota state, instances and the session directory, over
// either driver (a SqlClient: embedded SQLite or PostgreSQL). Several `isol8 serve` instances
// sharing one PostgreSQL database share all of it: a key created through one works on every
// one, a concurrency quota counts the executions of every live instance, and each session is
// recorded with the instance that holds its container.
//
// Counting across instances must survive an instance that dies: leases and sessions count only
// while their instance's heartbeat is fresh (`liveSince`), so a killed instance's executions
// stop counting against a quota within the heartbeat lifetime, without anyone cleaning up.
import * as v from "valibot";
import { type KeyPolicy, KeyPolicySchema, type KeyQuotas, KeyQuotasSchema } from "../protocol/tenancy";
import { keyHash, newKey, newKeyId } from "./key-material";
import { migrate } from "./migrations";
import { type Bucket, dayOf, type RateRule, retryAfterSeconds, type TokenVerdict, refill } from "./quota-math";
import { num, type Row, type SqlClient } from "./sql-client";

/** A key as stored (without its hash). */
export interface KeyRecord {
  id: string;
  name: string;
  policy: KeyPolicy;
  quotas: KeyQuotas;
  createdAt: number;
  rotatedAt: number | null;
  revokedAt: number | null;
}

export interface StoredKey extends KeyRecord {
  hash: string;
}

/** Where a session lives. */
export interface SessionPlace {
  instanceId: string;
  /** The instance's advertised URL (null for an in-process server). */
  url: string | null;
}

export type SessionClaim = { claimed: true } | { elsewhere: SessionPlace } | { full: true };

export interface KeyUsageCounts {
  concurrent: number;
  sessions: number;
  cpuMs: number;
  executions: number;
  /** The rate bucket at `now` (null when the key never used one). */
  bucket: Bucket | null;
}

export interface KeyStore {
  // Keys
  createKey(input: { name: string; policy: KeyPolicy; quotas: KeyQuotas }, now?: number): Promise<{ key: string; record: KeyRecord }>;
  findKey(id: string): Promise<StoredKey | null>;
  listKeys(): Promise<KeyRecord[]>;
  /** Marks a key revoked (idempotent); null for an unknown id. */
  revokeKey(id: string, now?: number): Promise<KeyRecord | null>;
  /** A new key for the same id (the old one stops working); null for an unknown or revoked id. */
  rotateKey(id: string, now?: number): Promise<{ key: string; record: KeyRecord } | null>;

  // Quotas
  /** Takes one request token of a key's rate quota. */
  takeToken(keyId: string, rule: RateRule, now?: number): Promise<TokenVerdict>;
  /** Records a running execution unless the key already has `max` running on live instances. */
  acquireLease(lease: { id: string; keyId: string; instanceId: string }, max: number | undefined, liveSince: number, now?: number): Promise<boolean>;
  releaseLease(id: string): Promise<void>;
  /** Adds an execution and its CPU time to the key's usage of the UTC day of `now`. */
  addUsage(keyId: string, cpuMs: number, now?: number): Promise<void>;
  usage(keyId: string, owner: string, liveSince: number, now?: number): Promise<KeyUsageCounts>;
  /** CPU milliseconds the key used on the UTC day of `now`. */
  cpuToday(keyId: string, now?: number): Promise<number>;

  // Instances and sessions
  /** Records that an instance is alive (and where it is reached); forgets what dead ones left. */
  heartbeat(instance: { id: string; url: string | null }, deadBefore: number, now?: number): Promise<void>;
  /** An instance that stops: its row, leases and sessions go. */
  removeInstance(id: string): Promise<void>;
  /**
   * Records the owner's session on this instance: `claimed` when it is new or already here,
   * `elsewhere` when a live instance holds it, `full` when the owner has `maxSessions` on live
   * instances. A session of a dead instance is taken over (its container is gone anyway).
   */
  claimSession(session: { owner: string; id: string; instanceId: string }, maxSessions: number | undefined, liveSince: number, now?: number): Promise<SessionClaim>;
  /** Where the owner's session lives, if a live instance holds it. */
  locateSession(owner: string, id: string, liveSince: number): Promise<SessionPlace | null>;
  forgetSession(owner: string, id: string, instanceId: string): Promise<void>;
  /** The live instance of an id (null when unknown or dead). */
  instance(id: string, liveSince: number): Promise<SessionPlace | null>;

  close(): Promise<void>;
}

const time = (value: unknown) => (value === null || value === undefined ? null : num(value));

function recordOf(row: Row): StoredKey {
  return {
    id: String(row.id),
    name: String(row.name),
    hash: String(row.hash),
    policy: v.parse(KeyPolicySchema, JSON.parse(String(row.policy))),
    quotas: v.parse(KeyQuotasSchema, JSON.parse(String(row.quotas))),
    createdAt: num(row.created_at),
    rotatedAt: time(row.rotated_at),
    revokedAt: time(row.revoked_at),
  };
}

const withoutHash = ({ hash: _hash, ...record }: StoredKey): KeyRecord => record;

const KEY_COLUMNS = "id, name, hash, policy, quotas, created_at, rotated_at, revoked_at";

/** Opens the store on a client: migrates its schema to the latest version first. */
export async function createKeyStore(client: SqlClient): Promise<KeyStore> {
  await migrate(client);

  const findKey = async (id: string) => {
    const rows = await client.all(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return rows[0] ? recordOf(rows[0]) : null;
  };

  return {
    async createKey(input, now = Date.now()) {
      for (let attempt = 0; ; attempt++) {
        const id = newKeyId();
        const key = newKey(id);
        const inserted = await client.run(
          `INSERT INTO api_keys (${KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL) ON CONFLICT (id) DO NOTHING`,
          [id, input.name, keyHash(key), JSON.stringify(input.policy), JSON.stringify(input.quotas), now],
        );
        if (inserted === 1) return { key, record: withoutHash((await findKey(id))!) };
        if (attempt >= 5) throw new Error("Cannot create a key: no free key id after 6 tries");
      }
    },
    findKey,
    async listKeys() {
      const rows = await client.all(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`);
      return rows.map((row) => withoutHash(recordOf(row)));
    },
    async revokeKey(id, now = Date.now()) {
      await client.run("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [id, now]);
      const found = await findKey(id);
      return found ? withoutHash(found) : null;
    },
    async rotateKey(id, now = Date.now()) {
      const key = newKey(id);
      const changed = await client.run("UPDATE api_keys SET hash = $2, rotated_at = $3 WHERE id = $1 AND revoked_at IS NULL", [id, keyHash(key), now]);
      if (changed !== 1) return null;
      return { key, record: withoutHash((await findKey(id))!) };
    },

    async takeToken(keyId, rule, now = Date.now()) {
      // One statement, atomic on both databases (the row is locked by the upsert): the bucket
      // refilled for the time since its last use (never above capacity, never for a clock that
      // went back), one token taken when there is one, and the verdict kept in the row.
      // The same arithmetic as quota-math.ts's takeToken, which states it and is table-tested.
      const elapsed = "(CASE WHEN CAST($3 AS BIGINT) > rate_buckets.updated_at THEN CAST($3 AS BIGINT) - rate_buckets.updated_at ELSE 0 END)";
      const grown = `(rate_buckets.tokens + ${elapsed} * CAST($2 AS DOUBLE PRECISION) / 60000.0)`;
      const refilled = `(CASE WHEN ${grown} > CAST($2 AS DOUBLE PRECISION) THEN CAST($2 AS DOUBLE PRECISION) ELSE ${grown} END)`;
      const rows = await client.all(
        `INSERT INTO rate_buckets (key_id, tokens, updated_at, allowed) VALUES ($1, CAST($2 AS DOUBLE PRECISION) - 1, CAST($3 AS BIGINT), 1)
         ON CONFLICT (key_id) DO UPDATE SET
           tokens = CASE WHEN ${refilled} >= 1 THEN ${refilled} - 1 ELSE ${refilled} END,
           allowed = CASE WHEN ${refilled} >= 1 THEN 1 ELSE 0 END,
           updated_at = CASE WHEN CAST($3 AS BIGINT) > rate_buckets.updated_at THEN CAST($3 AS BIGINT) ELSE rate_buckets.updated_at END
         RETURNING tokens, updated_at, allowed`,
        [keyId, rule.perMinute, now],
      );
      const row = rows[0]!;
      const bucket = { tokens: num(row.tokens), at: num(row.updated_at) };
      if (num(row.allowed) === 1) return { allowed: true, bucket };
      return { allowed: false, bucket, retryAfterSeconds: retryAfterSeconds(bucket, rule) };
    },
    async acquireLease(lease, max, liveSince, now = Date.now()) {
      if (client.dialect === "postgres") {
        const rows = await client.all("SELECT isol8_acquire_lease($1, $2, $3, $4, $5, $6) AS ok", [lease.id, lease.keyId, lease.instanceId, max ?? null, liveSince, now]);
        return rows[0]?.ok === true;
      }
      return client.transaction(async (tx) => {
        if (max !== undefined) {
          const rows = await tx.all(
            "SELECT COUNT(*) AS n FROM leases l JOIN instances i ON i.id = l.instance_id WHERE l.key_id = $1 AND i.seen_at >= $2",
            [lease.keyId, liveSince],
          );
          if (num(rows[0]?.n) >= max) return false;
        }
        await tx.run("INSERT INTO leases (id, key_id, instance_id, started_at) VALUES ($1, $2, $3, $4)", [lease.id, lease.keyId, lease.instanceId, now]);
        return true;
      });
    },
    async releaseLease(id) {
      await client.run("DELETE FROM leases WHERE id = $1", [id]);
    },
    async addUsage(keyId, cpuMs, now = Date.now()) {
      await client.run(
        `INSERT INTO daily_usage (key_id, day, cpu_ms, executions) VALUES ($1, $2, $3, 1)
         ON CONFLICT (key_id, day) DO UPDATE SET cpu_ms = daily_usage.cpu_ms + $3, executions = daily_usage.executions + 1`,
        [keyId, dayOf(now), Math.max(0, Math.round(cpuMs))],
      );
    },
    async usage(keyId, owner, liveSince, now = Date.now()) {
      const [leases, sessions, daily, bucket] = await Promise.all([
        client.all("SELECT COUNT(*) AS n FROM leases l JOIN instances i ON i.id = l.instance_id WHERE l.key_id = $1 AND i.seen_at >= $2", [keyId, liveSince]),
        client.all("SELECT COUNT(*) AS n FROM sessions s JOIN instances i ON i.id = s.instance_id WHERE s.owner = $1 AND i.seen_at >= $2", [owner, liveSince]),
        client.all("SELECT cpu_ms, executions FROM daily_usage WHERE key_id = $1 AND day = $2", [keyId, dayOf(now)]),
        client.all("SELECT tokens, updated_at FROM rate_buckets WHERE key_id = $1", [keyId]),
      ]);
      return {
        concurrent: num(leases[0]?.n),
        sessions: num(sessions[0]?.n),
        cpuMs: num(daily[0]?.cpu_ms),
        executions: num(daily[0]?.executions),
        bucket: bucket[0] ? { tokens: num(bucket[0].tokens), at: num(bucket[0].updated_at) } : null,
      };
    },

    async cpuToday(keyId, now = Date.now()) {
      const rows = await client.all("SELECT cpu_ms FROM daily_usage WHERE key_id = $1 AND day = $2", [keyId, dayOf(now)]);
      return num(rows[0]?.cpu_ms);
    },

    async heartbeat(instance, deadBefore, now = Date.now()) {
      await client.run("INSERT INTO instances (id, url, seen_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET url = $2, seen_at = $3", [
        instance.id,
        instance.url,
        now,
      ]);
      // What dead instances left: it no longer counts (liveSince), and now it goes.
      await client.run("DELETE FROM leases WHERE instance_id IN (SELECT id FROM instances WHERE seen_at < $1)", [deadBefore]);
      await client.run("DELETE FROM sessions WHERE instance_id IN (SELECT id FROM instances WHERE seen_at < $1)", [deadBefore]);
      await client.run("DELETE FROM instances WHERE seen_at < $1", [deadBefore]);
    },
    async removeInstance(id) {
      await client.transaction(async (tx) => {
        await tx.run("DELETE FROM leases WHERE instance_id = $1", [id]);
        await tx.run("DELETE FROM sessions WHERE instance_id = $1", [id]);
        await tx.run("DELETE FROM instances WHERE id = $1", [id]);
      });
    },
    async claimSession(session, maxSessions, liveSince, now = Date.now()) {
      return client.transaction(async (tx): Promise<SessionClaim> => {
        await client.lock(tx, `sessions:${session.owner}`);
        const rows = await tx.all(
          "SELECT s.instance_id, i.url, i.seen_at FROM sessions s LEFT JOIN instances i ON i.id = s.instance_id WHERE s.owner = $1 AND s.id = $2",
          [session.owner, session.id],
        );
        const existing = rows[0];
        if (existing) {
          if (String(existing.instance_id) === session.instanceId) return { claimed: true };
          const live = existing.seen_at !== null && existing.seen_at !== undefined && num(existing.seen_at) >= liveSince;
          if (live) return { elsewhere: { instanceId: String(existing.instance_id), url: existing.url === null ? null : String(existing.url) } };
          await tx.run("DELETE FROM sessions WHERE owner = $1 AND id = $2", [session.owner, session.id]);
        }
        if (maxSessions !== undefined) {
          const counted = await tx.all(
            "SELECT COUNT(*) AS n FROM sessions s JOIN instances i ON i.id = s.instance_id WHERE s.owner = $1 AND i.seen_at >= $2",
            [session.owner, liveSince],
          );
          if (num(counted[0]?.n) >= maxSessions) return { full: true };
        }
        await tx.run("INSERT INTO sessions (owner, id, instance_id, created_at) VALUES ($1, $2, $3, $4)", [session.owner, session.id, session.instanceId, now]);
        return { claimed: true };
      });
    },
    async locateSession(owner, id, liveSince) {
      const rows = await client.all(
        "SELECT s.instance_id, i.url FROM sessions s JOIN instances i ON i.id = s.instance_id WHERE s.owner = $1 AND s.id = $2 AND i.seen_at >= $3",
        [owner, id, liveSince],
      );
      return rows[0] ? { instanceId: String(rows[0].instance_id), url: rows[0].url === null ? null : String(rows[0].url) } : null;
    },
    async forgetSession(owner, id, instanceId) {
      await client.run("DELETE FROM sessions WHERE owner = $1 AND id = $2 AND instance_id = $3", [owner, id, instanceId]);
    },
    async instance(id, liveSince) {
      const rows = await client.all("SELECT id, url FROM instances WHERE id = $1 AND seen_at >= $2", [id, liveSince]);
      return rows[0] ? { instanceId: String(rows[0].id), url: rows[0].url === null ? null : String(rows[0].url) } : null;
    },
    close: () => client.close(),
  };
}

/** The bucket of a key's rate quota as it stands at `now` (for GET /usage; takes nothing). */
export function bucketNow(bucket: Bucket | null, now: number, rule: RateRule): Bucket {
  return refill(bucket, now, rule);
}
