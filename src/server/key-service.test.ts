import { describe, expect, test } from "bun:test";
import { createKeyStore } from "../store/key-store";
import { openSqliteClient } from "../store/sqlite-client";
import { createKeyService, KEY_CACHE_MS } from "./key-service";

async function service() {
  let now = 1_000_000;
  const store = await createKeyStore(await openSqliteClient(":memory:"));
  const keys = createKeyService({ adminKeys: ["admin-key"], store: Promise.resolve(store), now: () => now });
  return { keys, store, advance: (ms: number) => (now += ms) };
}

const bearer = (key: string) => `Bearer ${key}`;

describe("key service", () => {
  test("bootstrap keys are admins; store keys carry their id, policy and quotas; others are 401 / 403", async () => {
    const { keys, store } = await service();
    const { key, record } = await store.createKey({ name: "t", policy: { allowInstalls: false }, quotas: { maxSessions: 1 } });
    expect(await keys.authenticate(bearer("admin-key"))).toMatchObject({ caller: { admin: true, keyId: null } });
    expect(await keys.authenticate(bearer(key))).toEqual({
      caller: { principal: `key:${record.id}`, admin: false, keyId: record.id, policy: { allowInstalls: false }, quotas: { maxSessions: 1 } },
    });
    expect(await keys.authenticate(null)).toEqual({ status: 401 });
    expect(await keys.authenticate("Basic abc")).toEqual({ status: 401 });
    expect(await keys.authenticate(bearer("wrong"))).toEqual({ status: 403 });
    expect(await keys.authenticate(bearer(`${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`))).toEqual({ status: 403 });
  });

  test(`a key revoked elsewhere (another instance) works until its cached record is ${KEY_CACHE_MS} ms old, then never again`, async () => {
    const { keys, store, advance } = await service();
    const { key, record } = await store.createKey({ name: "t", policy: {}, quotas: {} });
    expect("caller" in (await keys.authenticate(bearer(key)))).toBe(true);
    await store.revokeKey(record.id);
    advance(KEY_CACHE_MS - 1);
    expect("caller" in (await keys.authenticate(bearer(key)))).toBe(true);
    advance(1);
    expect(await keys.authenticate(bearer(key))).toEqual({ status: 403 });
  });

  test("forget() drops the cached record at once (revoked or rotated through this instance)", async () => {
    const { keys, store } = await service();
    const { key, record } = await store.createKey({ name: "t", policy: {}, quotas: {} });
    expect("caller" in (await keys.authenticate(bearer(key)))).toBe(true);
    const rotated = (await store.rotateKey(record.id))!;
    keys.forget(record.id);
    expect(await keys.authenticate(bearer(key))).toEqual({ status: 403 });
    expect("caller" in (await keys.authenticate(bearer(rotated.key)))).toBe(true);
  });
});
