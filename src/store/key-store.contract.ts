// THE contract every key-store driver passes: run against embedded SQLite by key-store.test.ts
// and against PostgreSQL by the scale-out tier (test/scale/key-store-postgres.scale.ts, and by
// key-store.test.ts when ISOL8_TEST_DATABASE_URL names a database it may create databases in).
import { describe, expect, test } from "bun:test";
import { keyHash, keyIdOf, keyMatches } from "./key-material";
import { createKeyStore, type KeyStore } from "./key-store";
import { LATEST_VERSION, migrate, MIGRATIONS, schemaVersion } from "./migrations";
import type { SqlClient } from "./sql-client";

/** Opens a client on a new, empty database. */
export type FreshClient = () => Promise<SqlClient>;

const T0 = Date.UTC(2030, 0, 15, 12, 0, 0);
const LIVE = T0 - 15_000;

async function withStore(fresh: FreshClient, work: (store: KeyStore, client: SqlClient) => Promise<void>) {
  const client = await fresh();
  const store = await createKeyStore(client);
  try {
    await store.heartbeat({ id: "inst-a", url: "http://a.test" }, 0, T0);
    await store.heartbeat({ id: "inst-b", url: "http://b.test" }, 0, T0);
    await work(store, client);
  } finally {
    await store.close();
  }
}

export function keyStoreContract(driver: string, fresh: FreshClient) {
  describe(`key store contract (${driver}): migrations`, () => {
    test("an empty database migrates to the latest version; running again applies nothing", async () => {
      const client = await fresh();
      try {
        expect(await schemaVersion(client)).toBe(0);
        expect(await migrate(client)).toEqual(MIGRATIONS.map((m) => m.version));
        expect(await schemaVersion(client)).toBe(LATEST_VERSION);
        expect(await migrate(client)).toEqual([]);
      } finally {
        await client.close();
      }
    });

    test("a database at version N migrates to N+1 and keeps its rows", async () => {
      const client = await fresh();
      try {
        expect(await migrate(client, 1)).toEqual([1]);
        await client.run("INSERT INTO api_keys (id, name, hash, policy, quotas, created_at) VALUES ('abcdefghij', 'old', 'h', '{}', '{}', 1)");
        for (let version = 2; version <= LATEST_VERSION; version++) {
          expect(await migrate(client, version)).toEqual([version]);
          expect(await schemaVersion(client)).toBe(version);
        }
        expect(await migrate(client)).toEqual([]);
        const store = await createKeyStore(client);
        expect((await store.findKey("abcdefghij"))?.name).toBe("old");
      } finally {
        await client.close();
      }
    });

    test("a database newer than this build is refused, naming both versions", async () => {
      const client = await fresh();
      try {
        await migrate(client);
        await client.run("INSERT INTO isol8_schema (version, applied_at) VALUES ($1, 0)", [LATEST_VERSION + 1]);
        await expect(migrate(client)).rejects.toThrow(`its schema is at version ${LATEST_VERSION + 1}, this isol8 knows up to ${LATEST_VERSION}`);
      } finally {
        await client.close();
      }
    });
  });

  describe(`key store contract (${driver}): keys`, () => {
    test("a created key is stored as its hash only; its id finds it; the key matches, others do not", async () => {
      await withStore(fresh, async (store, client) => {
        const { key, record } = await store.createKey({ name: "team-a", policy: { allowInstalls: false }, quotas: { maxConcurrent: 2 } }, T0);
        expect(keyIdOf(key)).toBe(record.id);
        expect(record).toMatchObject({ name: "team-a", policy: { allowInstalls: false }, quotas: { maxConcurrent: 2 }, createdAt: T0, revokedAt: null });
        const rows = await client.all("SELECT * FROM api_keys");
        expect(JSON.stringify(rows)).not.toContain(key.slice(`isol8_${record.id}_`.length));
        const stored = (await store.findKey(record.id))!;
        expect(stored.hash).toBe(keyHash(key));
        expect(keyMatches(key, stored.hash)).toBe(true);
        expect(keyMatches(`${key.slice(0, -1)}x`, stored.hash)).toBe(false);
        expect(await store.findKey("zzzzzzzzzz")).toBeNull();
      });
    });

    test("list, revoke (idempotent), rotate (same id, new key; a revoked key cannot be rotated)", async () => {
      await withStore(fresh, async (store) => {
        const a = await store.createKey({ name: "a", policy: {}, quotas: {} }, T0);
        const b = await store.createKey({ name: "b", policy: {}, quotas: {} }, T0 + 1);
        expect((await store.listKeys()).map((k) => k.name)).toEqual(["a", "b"]);
        const rotated = (await store.rotateKey(a.record.id, T0 + 2))!;
        expect(rotated.record.id).toBe(a.record.id);
        expect(rotated.key).not.toBe(a.key);
        const stored = (await store.findKey(a.record.id))!;
        expect(keyMatches(rotated.key, stored.hash)).toBe(true);
        expect(keyMatches(a.key, stored.hash)).toBe(false);
        expect(stored.rotatedAt).toBe(T0 + 2);
        expect((await store.revokeKey(b.record.id, T0 + 3))?.revokedAt).toBe(T0 + 3);
        expect((await store.revokeKey(b.record.id, T0 + 9))?.revokedAt).toBe(T0 + 3);
        expect(await store.rotateKey(b.record.id)).toBeNull();
        expect(await store.revokeKey("zzzzzzzzzz")).toBeNull();
      });
    });
  });

  describe(`key store contract (${driver}): quotas`, () => {
    test("rate: a bucket of 3 per minute lets 3 through, refuses the 4th with the wait, refills", async () => {
      await withStore(fresh, async (store) => {
        const rule = { perMinute: 3 };
        for (let i = 0; i < 3; i++) expect((await store.takeToken("k1", rule, T0)).allowed).toBe(true);
        const refused = await store.takeToken("k1", rule, T0);
        expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 20 });
        expect((await store.takeToken("k2", rule, T0)).allowed).toBe(true); // per key
        expect((await store.takeToken("k1", rule, T0 + 20_000)).allowed).toBe(true);
        expect((await store.takeToken("k1", rule, T0 + 20_000)).allowed).toBe(false);
      });
    });

    test("rate: concurrent takers never get more tokens than the bucket holds", async () => {
      await withStore(fresh, async (store) => {
        const verdicts = await Promise.all(Array.from({ length: 12 }, () => store.takeToken("k", { perMinute: 5 }, T0)));
        expect(verdicts.filter((v) => v.allowed)).toHaveLength(5);
      });
    });

    test("concurrency: leases count across instances up to the quota; released or dead ones stop counting", async () => {
      await withStore(fresh, async (store) => {
        expect(await store.acquireLease({ id: "l1", keyId: "k", instanceId: "inst-a" }, 2, LIVE, T0)).toBe(true);
        expect(await store.acquireLease({ id: "l2", keyId: "k", instanceId: "inst-b" }, 2, LIVE, T0)).toBe(true);
        expect(await store.acquireLease({ id: "l3", keyId: "k", instanceId: "inst-a" }, 2, LIVE, T0)).toBe(false);
        expect(await store.acquireLease({ id: "l4", keyId: "other", instanceId: "inst-a" }, 2, LIVE, T0)).toBe(true);
        await store.releaseLease("l1");
        expect(await store.acquireLease({ id: "l5", keyId: "k", instanceId: "inst-a" }, 2, LIVE, T0)).toBe(true);
        expect(await store.acquireLease({ id: "l6", keyId: "k", instanceId: "inst-a" }, 2, LIVE, T0)).toBe(false);
        // inst-b stops answering: 15 s later its lease (l2) no longer counts.
        await store.heartbeat({ id: "inst-a", url: "http://a.test" }, 0, T0 + 20_000);
        expect(await store.acquireLease({ id: "l7", keyId: "k", instanceId: "inst-a" }, 2, T0 + 5_000, T0 + 20_000)).toBe(true);
        expect(await store.acquireLease({ id: "l8", keyId: "k", instanceId: "inst-a" }, 2, T0 + 5_000, T0 + 20_000)).toBe(false);
        await store.releaseLease("l5");
        expect(await store.acquireLease({ id: "l9", keyId: "k", instanceId: "inst-a" }, 2, T0 + 5_000, T0 + 20_000)).toBe(true);
      });
    });

    test("concurrency: parallel acquisitions never exceed the quota", async () => {
      await withStore(fresh, async (store) => {
        const got = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.acquireLease({ id: `p${i}`, keyId: "k", instanceId: i % 2 ? "inst-a" : "inst-b" }, 3, LIVE, T0)),
        );
        expect(got.filter(Boolean)).toHaveLength(3);
      });
    });

    test("usage: CPU time and executions add up per UTC day; counts of leases and sessions", async () => {
      await withStore(fresh, async (store) => {
        await store.addUsage("k", 1500, T0);
        await store.addUsage("k", 250.4, T0 + 1);
        await store.addUsage("k", 1000, T0 + 24 * 3600_000); // the next day
        await store.acquireLease({ id: "l1", keyId: "k", instanceId: "inst-a" }, undefined, LIVE, T0);
        await store.claimSession({ owner: "key:k", id: "s1", instanceId: "inst-b" }, undefined, LIVE, T0);
        await store.takeToken("k", { perMinute: 10 }, T0);
        const usage = await store.usage("k", "key:k", LIVE, T0);
        expect(usage).toEqual({ concurrent: 1, sessions: 1, cpuMs: 1750, executions: 2, bucket: { tokens: 9, at: T0 } });
      });
    });
  });

  describe(`key store contract (${driver}): instances and sessions`, () => {
    test("a session is claimed once: the same instance again is fine, another live instance is told where it is", async () => {
      await withStore(fresh, async (store) => {
        const s = { owner: "key:k", id: "s1" };
        expect(await store.claimSession({ ...s, instanceId: "inst-a" }, undefined, LIVE, T0)).toEqual({ claimed: true });
        expect(await store.claimSession({ ...s, instanceId: "inst-a" }, undefined, LIVE, T0)).toEqual({ claimed: true });
        expect(await store.claimSession({ ...s, instanceId: "inst-b" }, undefined, LIVE, T0)).toEqual({ elsewhere: { instanceId: "inst-a", url: "http://a.test" } });
        expect(await store.locateSession("key:k", "s1", LIVE)).toEqual({ instanceId: "inst-a", url: "http://a.test" });
        // Another owner's session of the same id is another session.
        expect(await store.claimSession({ owner: "key:other", id: "s1", instanceId: "inst-b" }, undefined, LIVE, T0)).toEqual({ claimed: true });
        await store.forgetSession("key:k", "s1", "inst-b"); // not its instance: nothing happens
        expect(await store.locateSession("key:k", "s1", LIVE)).not.toBeNull();
        await store.forgetSession("key:k", "s1", "inst-a");
        expect(await store.locateSession("key:k", "s1", LIVE)).toBeNull();
      });
    });

    test("the session quota counts the owner's sessions on live instances; a dead instance's session is taken over", async () => {
      await withStore(fresh, async (store) => {
        expect(await store.claimSession({ owner: "key:k", id: "s1", instanceId: "inst-a" }, 2, LIVE, T0)).toEqual({ claimed: true });
        expect(await store.claimSession({ owner: "key:k", id: "s2", instanceId: "inst-b" }, 2, LIVE, T0)).toEqual({ claimed: true });
        expect(await store.claimSession({ owner: "key:k", id: "s3", instanceId: "inst-a" }, 2, LIVE, T0)).toEqual({ full: true });
        // inst-b dies: its session no longer counts, and may be claimed again by inst-a.
        const later = T0 + 20_000;
        await store.heartbeat({ id: "inst-a", url: "http://a.test" }, 0, later);
        expect(await store.locateSession("key:k", "s2", later - 15_000)).toBeNull();
        expect(await store.claimSession({ owner: "key:k", id: "s2", instanceId: "inst-a" }, 2, later - 15_000, later)).toEqual({ claimed: true });
        expect(await store.locateSession("key:k", "s2", later - 15_000)).toEqual({ instanceId: "inst-a", url: "http://a.test" });
      });
    });

    test("heartbeats forget what dead instances left; a removed instance takes its leases and sessions along", async () => {
      await withStore(fresh, async (store, client) => {
        await store.acquireLease({ id: "l1", keyId: "k", instanceId: "inst-b" }, undefined, LIVE, T0);
        await store.claimSession({ owner: "key:k", id: "s1", instanceId: "inst-b" }, undefined, LIVE, T0);
        await store.acquireLease({ id: "l2", keyId: "k", instanceId: "inst-a" }, undefined, LIVE, T0);
        await store.heartbeat({ id: "inst-a", url: "http://a.test" }, T0 + 1, T0 + 60_000);
        expect(await store.instance("inst-b", 0)).toBeNull();
        expect((await client.all("SELECT id FROM leases")).map((r) => r.id)).toEqual(["l2"]);
        expect(await client.all("SELECT id FROM sessions")).toEqual([]);
        await store.removeInstance("inst-a");
        expect(await client.all("SELECT id FROM leases")).toEqual([]);
        expect(await store.instance("inst-a", 0)).toBeNull();
      });
    });
  });
}
