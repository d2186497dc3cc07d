/** Where a request came from: the peer of its TCP connection. */
export interface Peer {
  address: string;
  port: number;
}

export interface AuthThrottleOptions {
  /** Wrong keys from one address within `windowMs` after which the address is throttled. */
  limit: number;
  windowMs: number;
  /**
   * How long a connection on which a key succeeded stays trusted after it was last seen: the
   * server's idle timeout (plus its timer's slack), after which the server has closed it.
   */
  connectionTrustMs: number;
  now?: () => number;
  log?: (line: string) => void;
  /** Most addresses (and trusted connections) remembered at once; the oldest are forgotten first. */
  maxEntries?: number;
}

export interface AuthThrottle {
  /**
   * Seconds a request from this peer must wait before its key may be checked, or null when it
   * may be checked now. A throttled address's keys are not checked at all (a 200 for the right
   * key would still tell it from a wrong one), except on connections where a key succeeded
   * before: nobody else can send on those.
   */
  retryAfter(peer: Peer | null): number | null;
  /** A wrong key from this peer. */
  failed(peer: Peer | null): void;
  /** A key succeeded on this peer's connection, or it answered a request (keeps it trusted). */
  trust(peer: Peer | null): void;
}

interface Window {
  start: number;
  failures: number;
}

/**
 * Failed authentications per client address in fixed windows: after `limit` wrong keys in
 * `windowMs`, the address gets 429 until its window ends. Only wrong keys count (a missing
 * key guesses nothing); IPv6 addresses count per /64, the block one client usually holds.
 * Logs each counted failure and one line when an address is throttled, never a key.
 */
export function createAuthThrottle(options: AuthThrottleOptions): AuthThrottle {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const maxEntries = options.maxEntries ?? 10_000;
  const windows = new Map<string, Window>();
  const trusted = new Map<string, number>();

  const connectionOf = (peer: Peer) => `${peer.address}|${peer.port}`;
  const current = (address: string, at: number): Window | undefined => {
    const window = windows.get(address);
    if (window && at - window.start < options.windowMs) return window;
    if (window) windows.delete(address);
    return undefined;
  };
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key); // re-inserted last: Map order is then oldest first
    if (map.size >= maxEntries) map.delete(map.keys().next().value!);
    map.set(key, value);
  };

  return {
    retryAfter(peer) {
      const at = now();
      const address = addressKeyOf(peer?.address ?? null);
      const window = current(address, at);
      if (!window || window.failures < options.limit) return null;
      if (peer) {
        const seen = trusted.get(connectionOf(peer));
        if (seen !== undefined && at - seen <= options.connectionTrustMs) return null;
      }
      return Math.max(1, Math.ceil((window.start + options.windowMs - at) / 1000));
    },
    failed(peer) {
      const at = now();
      const address = addressKeyOf(peer?.address ?? null);
      if (peer) trusted.delete(connectionOf(peer)); // a trusted connection loses its trust at its first wrong key
      const window = current(address, at) ?? { start: at, failures: 0 };
      window.failures++;
      remember(windows, address, window);
      if (window.failures < options.limit) log(`auth: wrong API key from ${address} (${window.failures} of ${options.limit} within ${options.windowMs / 1000} s)`);
      else if (window.failures === options.limit) {
        const seconds = Math.ceil((window.start + options.windowMs - at) / 1000);
        log(`auth: ${options.limit} wrong API keys from ${address} within ${options.windowMs / 1000} s: its new connections get 429 for ${seconds} s`);
      }
    },
    trust(peer) {
      if (peer) remember(trusted, connectionOf(peer), now());
    },
  };
}

/**
 * The address failures are counted under: IPv4 as is (also when IPv4-mapped), IPv6 by its
 * /64 prefix, "local" for a peer without an address (a Unix socket, an in-process call).
 */
export function addressKeyOf(address: string | null): string {
  if (!address) return "local";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(":")) return address;
  const groups = ipv6Groups(address.replace(/%.*$/, ""));
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : address;
}

/** The eight 16-bit groups of an IPv6 address (hex, no leading zeros), or null when malformed. */
function ipv6Groups(address: string): string[] | null {
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const parse = (half: string | undefined) => (half ? half.split(":") : []).flatMap((group) => (group.includes(".") ? ipv4Groups(group) : [group]));
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16).toString(16));
}

function ipv4Groups(dotted: string): string[] {
  const bytes = dotted.split(".").map(Number);
  if (bytes.length !== 4 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) return ["invalid"];
  return [((bytes[0]! << 8) | bytes[1]!).toString(16), ((bytes[2]! << 8) | bytes[3]!).toString(16)];
}
