// Who a request is: the bootstrap keys (--key / ISOL8_API_KEY, admins) checked in constant time
// as before, and the key store's keys, looked up by the public id the key carries and compared
// by hash in constant time. Store lookups are cached for at most KEY_CACHE_MS, so a revoked or
// rotated key stops working within that time on every instance sharing the store (the issue
// asks for 1 s) while a busy key costs one database read per cache period, not per request.
import type { KeyPolicy, KeyQuotas } from "../protocol/tenancy";
import { keyIdOf, keyMatches, principalOfKeyId } from "../store/key-material";
import type { KeyRecord, KeyStore, StoredKey } from "../store/key-store";
import { createKeyCheck } from "./auth";

/** A store key's record is re-read after this long (revocation reaches every instance within it). */
export const KEY_CACHE_MS = 500;
/** Most cached lookups at once; the oldest are dropped first. */
const MAX_CACHED = 10_000;

/** The caller a request authenticated as. */
export interface Caller {
  /** `key:<id>`: owns its sessions and streams; in audit records and logs. */
  principal: string;
  /** A bootstrap key: manages keys, sees every session, has no quotas. */
  admin: boolean;
  /** The store key's public id (null for a bootstrap key). */
  keyId: string | null;
  policy: KeyPolicy;
  quotas: KeyQuotas;
}

export type KeyVerdict = { caller: Caller } | { status: 401 | 403 };

export interface KeyService {
  authenticate(authorization: string | null): Promise<KeyVerdict>;
  /** The store (the admin routes and quotas use it). */
  store(): Promise<KeyStore>;
  /** Forgets a cached key at once on this instance (after revoking or rotating through it). */
  forget(id: string): void;
}

export interface KeyServiceOptions {
  /** The bootstrap (admin) keys. */
  adminKeys: readonly string[];
  /** The store, opened once (its promise rejects when it cannot be opened). */
  store: Promise<KeyStore>;
  now?: () => number;
}

const BEARER = /^Bearer\s+(\S.*)$/i;

export function createKeyService(options: KeyServiceOptions): KeyService {
  const checkAdmin = createKeyCheck(options.adminKeys);
  const now = options.now ?? Date.now;
  const cache = new Map<string, { record: StoredKey | null; at: number }>();

  const lookup = async (id: string): Promise<StoredKey | null> => {
    const at = now();
    const cached = cache.get(id);
    if (cached && at - cached.at < KEY_CACHE_MS) return cached.record;
    const record = await (await options.store).findKey(id);
    cache.delete(id);
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(id, { record, at });
    return record;
  };

  return {
    async authenticate(authorization) {
      const admin = checkAdmin(authorization);
      if ("principal" in admin) return { caller: { principal: admin.principal, admin: true, keyId: null, policy: {}, quotas: {} } };
      if (admin.status === 401) return admin;
      const presented = BEARER.exec(authorization!.trim())![1]!;
      const id = keyIdOf(presented);
      if (id === null) return { status: 403 };
      const record = await lookup(id);
      // Compared even for an unknown or revoked id, so timing tells neither apart from a wrong secret.
      const matches = keyMatches(presented, record?.hash ?? "0".repeat(64));
      if (!record || record.revokedAt !== null || !matches) return { status: 403 };
      return { caller: { principal: principalOfKeyId(record.id), admin: false, keyId: record.id, policy: record.policy, quotas: record.quotas } };
    },
    store: () => options.store,
    forget: (id) => void cache.delete(id),
  };
}

/** A key as the API shows it (times as ISO strings; never its hash). */
export function keyInfoOf(record: KeyRecord) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: record.id,
    name: record.name,
    policy: record.policy,
    quotas: record.quotas,
    createdAt: iso(record.createdAt)!,
    rotatedAt: iso(record.rotatedAt),
    revokedAt: iso(record.revokedAt),
  };
}
