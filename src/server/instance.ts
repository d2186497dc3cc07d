// This server as one instance among those sharing a key store: its id, the URL the others reach
// it at, and its heartbeat. Leases (running executions) and sessions count only while their
// instance's heartbeat is fresh: a killed instance stops holding quota within INSTANCE_TTL_MS.
import { randomBytes } from "node:crypto";
import type { KeyStore } from "../store/key-store";

/** How often an instance says it is alive. */
export const HEARTBEAT_MS = 2_000;
/** An instance not heard from for this long is dead: its executions and sessions stop counting. */
export const INSTANCE_TTL_MS = 10_000;
/** What a dead instance left is deleted after this long (it no longer counted anyway). */
const FORGET_AFTER_MS = 60_000;

export interface Instance {
  readonly id: string;
  /** The URL other instances forward to (null: in-process, unreachable). */
  url: string | null;
  /** Heartbeats older than this are dead instances'. */
  liveSince(): number;
  /** Registers now and keeps beating until stop(). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createInstance(options: { store: Promise<KeyStore>; url?: string | null; now?: () => number; log?: (line: string) => void; id?: string }): Instance {
  const now = options.now ?? Date.now;
  const id = options.id ?? `i-${randomBytes(6).toString("hex")}`;
  let timer: ReturnType<typeof setInterval> | undefined;
  let failing = false;
  const beat = async () => {
    const at = now();
    try {
      await (await options.store).heartbeat({ id, url: instance.url }, at - FORGET_AFTER_MS, at);
      if (failing) options.log?.("key store: heartbeat works again");
      failing = false;
    } catch (error) {
      if (!failing) options.log?.(`key store: heartbeat failed: ${(error as Error).message}`);
      failing = true;
    }
  };
  const instance: Instance = {
    id,
    url: options.url ?? null,
    liveSince: () => now() - INSTANCE_TTL_MS,
    async start() {
      await (await options.store).heartbeat({ id, url: instance.url }, now() - FORGET_AFTER_MS, now());
      timer ??= setInterval(() => void beat(), HEARTBEAT_MS);
      timer.unref?.();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await (await options.store).removeInstance(id).catch(() => {});
    },
  };
  return instance;
}
