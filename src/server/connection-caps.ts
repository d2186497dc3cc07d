// How many TCP connections `isol8 serve` holds open: in all, per client address, and before a
// key was presented. The connection gate (connection-gate.ts) asks here at each accept; this
// file only counts and decides (no sockets, no clock), so it is table-tested.
import { addressKeyOf } from "./auth-throttle";

/** The caps, by their config key under `server.` (positive integers). */
export interface ConnectionCapLimits {
  /** All open connections of the server. */
  maxConnections: number;
  /** Open connections per client address (IPv6: per /64, as the auth throttle counts). */
  maxConnectionsPerAddress: number;
  /** Open connections on which no request has been admitted with a key yet. */
  maxUnauthenticatedConnections: number;
}

export type ConnectionCapName = keyof ConnectionCapLimits;

/** What is open when a new connection arrives. */
export interface OpenCounts {
  open: number;
  /** Open connections from the new connection's address (its /64 for IPv6). */
  fromAddress: number;
  unauthenticated: number;
}

/**
 * The cap a new connection would exceed, or null when it may open (pure). Every new connection
 * is unauthenticated, so it needs room under all three caps; the first full one is named, in
 * the order: all connections, the address's, the unauthenticated ones.
 */
export function exceededCap(counts: OpenCounts, limits: ConnectionCapLimits): ConnectionCapName | null {
  if (counts.open >= limits.maxConnections) return "maxConnections";
  if (counts.fromAddress >= limits.maxConnectionsPerAddress) return "maxConnectionsPerAddress";
  if (counts.unauthenticated >= limits.maxUnauthenticatedConnections) return "maxUnauthenticatedConnections";
  return null;
}

/** One open connection, as counted. */
export interface CountedConnection {
  /** The key its address is counted under (IPv4 as is, IPv6 per /64). */
  readonly addressKey: string;
  readonly authenticated: boolean;
  /** A request on it was admitted with a key: it no longer counts as unauthenticated. Idempotent. */
  authenticate(): void;
  /** It closed: it counts no more. Idempotent; authenticate() after it does nothing. */
  close(): void;
}

export interface ConnectionCounter {
  /** Counts a new connection from `address`, or names the cap it would exceed (and counts nothing). */
  open(address: string | null): CountedConnection | ConnectionCapName;
  /** What is counted now (the addresses map holds only addresses with an open connection). */
  stats(): { open: number; unauthenticated: number; addresses: number };
}

export function createConnectionCounter(limits: ConnectionCapLimits): ConnectionCounter {
  let open = 0;
  let unauthenticated = 0;
  const perAddress = new Map<string, number>();

  return {
    open(address) {
      const addressKey = addressKeyOf(address);
      const fromAddress = perAddress.get(addressKey) ?? 0;
      const exceeded = exceededCap({ open, fromAddress, unauthenticated }, limits);
      if (exceeded) return exceeded;
      open++;
      unauthenticated++;
      perAddress.set(addressKey, fromAddress + 1);
      let authenticated = false;
      let closed = false;
      return {
        addressKey,
        get authenticated() {
          return authenticated;
        },
        authenticate() {
          if (closed || authenticated) return;
          authenticated = true;
          unauthenticated--;
        },
        close() {
          if (closed) return;
          closed = true;
          open--;
          if (!authenticated) unauthenticated--;
          const left = perAddress.get(addressKey)! - 1;
          if (left === 0) perAddress.delete(addressKey);
          else perAddress.set(addressKey, left);
        },
      };
    },
    stats: () => ({ open, unauthenticated, addresses: perAddress.size }),
  };
}
