// The server's tenancy in one place, as the app asks it: who a key is (key-service.ts), what
// it may use (quotas.ts), this instance among those sharing the store (instance.ts), and where
// each session lives (the store's session directory). serve.ts and createServer build one from
// the configuration; tests build one over an in-memory SQLite store.
import type { KeyStore } from "../store/key-store";
import { openKeyStore } from "../store/open-store";
import { ElsewhereError } from "./forward";
import { createInstance, type Instance } from "./instance";
import { type Caller, createKeyService, type KeyService } from "./key-service";
import { createQuotaService, quotaExceeded, type QuotaService } from "./quotas";

export interface Tenancy {
  keys: KeyService;
  quotas: QuotaService;
  instance: Instance;
  /**
   * Records the caller's new session on this instance (its session quota counted across every
   * instance); throws ElsewhereError when a live instance holds it, 429 over the quota.
   */
  claimSession(caller: Caller, id: string): Promise<void>;
  /** Throws ElsewhereError when another live instance holds the owner's session. */
  locateSession(owner: string, id: string): Promise<void>;
  /** Throws ElsewhereError when an id of newHeldId names another live instance (`what` names the thing in the error). */
  locateHeld(what: string, id: string): Promise<void>;
  /** A session of this instance is gone. */
  forgetSession(owner: string, id: string): Promise<void>;
  /** An id for something only this instance holds, an event stream or an MCP session: `<instance id>.<uuid>`, so any instance can tell where it lives. */
  newHeldId(): string;
  /** Registers the instance and starts its heartbeat. */
  start(): Promise<void>;
  /** Deregisters the instance (its leases and sessions go) and closes the store. */
  close(): Promise<void>;
}

export interface TenancyOptions {
  adminKeys: readonly string[];
  store: Promise<KeyStore>;
  /** The URL other instances forward to (null: in-process). */
  url?: string | null;
  log: (line: string) => void;
  now?: () => number;
  /**
   * The store is a private in-memory one nobody asked for (createServer without
   * server.database): when it cannot be opened (Node has no bun:sqlite), sessions stay this
   * instance's own and only the bootstrap keys work.
   */
  optional?: boolean;
}

export function createTenancy(options: TenancyOptions): Tenancy {
  const instance = createInstance({ store: options.store, url: options.url ?? null, log: options.log, ...(options.now ? { now: options.now } : {}) });
  // The instance is registered before the store is used for anything that counts per instance.
  let starting: Promise<void> | null = null;
  const start = () => (starting ??= instance.start());
  const ready = start().then(
    () => options.store,
    () => options.store,
  );
  // The opening error, if any, is reported by whoever awaits the store.
  ready.catch(() => {});
  const keys = createKeyService({ adminKeys: options.adminKeys, store: ready, ...(options.now ? { now: options.now } : {}) });
  const quotas = createQuotaService({ keys, instance, log: options.log, ...(options.now ? { now: options.now } : {}) });
  /** The store for the session directory; null when an optional store could not be opened. */
  const directory = async () => {
    try {
      return await ready;
    } catch (error) {
      if (options.optional) return null;
      throw error;
    }
  };
  const elsewhere = (what: string, place: { instanceId: string; url: string | null }) => new ElsewhereError(what, place.instanceId, place.url);
  return {
    keys,
    quotas,
    instance,
    async claimSession(caller, id) {
      const db = await directory();
      if (!db) return;
      const claim = await db.claimSession({ owner: caller.principal, id, instanceId: instance.id }, caller.quotas.maxSessions, instance.liveSince());
      if ("elsewhere" in claim) throw elsewhere(`session "${id}"`, claim.elsewhere);
      if ("full" in claim) throw quotaExceeded("maxSessions", `${caller.quotas.maxSessions} sessions open`, 5);
    },
    async locateSession(owner, id) {
      const place = await (await directory())?.locateSession(owner, id, instance.liveSince());
      if (place && place.instanceId !== instance.id) throw elsewhere(`session "${id}"`, place);
    },
    async locateHeld(what, id) {
      const instanceId = id.slice(0, Math.max(0, id.indexOf(".")));
      if (!instanceId || instanceId === instance.id) return;
      const place = await (await directory())?.instance(instanceId, instance.liveSince());
      if (place) throw elsewhere(what, place);
    },
    async forgetSession(owner, id) {
      await (await directory())?.forgetSession(owner, id, instance.id).catch((error) => options.log(`key store: cannot forget session "${id}": ${(error as Error).message}`));
    },
    newHeldId: () => `${instance.id}.${crypto.randomUUID()}`,
    start,
    async close() {
      const db = await directory().catch(() => null);
      if (!db) return;
      await instance.stop();
      await db.close();
    },
  };
}

/** A tenancy over a private in-memory SQLite store (tests, and in-process servers without server.database). */
export function inMemoryTenancy(adminKeys: readonly string[], log: (line: string) => void = () => {}, now?: () => number): Tenancy {
  return createTenancy({ adminKeys, store: openKeyStore({ path: ":memory:" }), log, ...(now ? { now } : {}) });
}
