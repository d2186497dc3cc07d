// The connection gate of `isol8 serve`: Bun.serve has no cap on connections and tells nothing
// when one opens, so the public port is a plain TCP listener (Bun.listen) that counts each
// connection (connection-caps.ts), refuses the ones over a cap at accept, before reading a byte,
// and relays the others, byte for byte, to Bun.serve on 127.0.0.1:<ephemeral>. The relay's own
// local port names the client connection: the HTTP server sees 127.0.0.1:<that port> as the
// peer and asks linkOf() for the real one (the auth throttle and the access log need it), and
// tells the link when a request on it was admitted with a key.
import type { Socket, TCPSocketListener } from "bun";
import type { Peer } from "./auth-throttle";
import { type ConnectionCapLimits, type ConnectionCapName, type CountedConnection, createConnectionCounter } from "./connection-caps";
import { createFlow, type Flow } from "./relay-flow";

export interface ConnectionGateOptions {
  /** Where clients connect (the server's public address). */
  hostname: string;
  port: number;
  /** The HTTP server the gate relays to (it listens on the loopback address, on a port of its own). */
  backend: { hostname: string; port: number };
  limits: ConnectionCapLimits;
  /**
   * Once the HTTP server has ended a connection, how long its client may take to read what is
   * left before the gate closes it anyway (the server's idle timeout).
   */
  lingerMs: number;
  log: (line: string) => void;
  now?: () => number;
}

/** A client connection as the HTTP server's requests see it. */
export interface GateLink {
  /** The client's own address and port (not the gate's). */
  readonly peer: Peer;
  /** A request on this connection was admitted with a key: it no longer counts as unauthenticated. */
  authenticated(): void;
}

export interface ConnectionGate {
  readonly hostname: string;
  readonly port: number;
  /**
   * The client connection behind the relay whose end the HTTP server sees as `relay` (its
   * `requestIP`), or null when it is not one of the gate's: a connection made to the HTTP
   * server's loopback port directly, around the gate.
   */
  linkOf(relay: { address: string; port: number } | null): GateLink | null;
  /** What the gate holds now: connections counted, relays open, bytes held for slow writers. */
  stats(): { open: number; unauthenticated: number; addresses: number; relays: number; clients: number; heldBytes: number };
  /** Stops accepting; with `closeActive`, closes every connection too. */
  stop(closeActive: boolean): void;
}

/** Refusals are logged at most once per cap in this time, with the count since the last line. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

const CAP_MESSAGES: Record<ConnectionCapName, string> = {
  maxConnections: "too many open connections to this server",
  maxConnectionsPerAddress: "too many open connections from this address",
  maxUnauthenticatedConnections: "too many open connections without an API key",
};

/** The whole answer to a connection over a cap: written at accept, before anything is read. */
export function refusalOf(cap: ConnectionCapName): Uint8Array {
  const body = JSON.stringify({ error: { code: "unavailable", message: `${CAP_MESSAGES[cap]} (server.${cap})`, retryable: true } });
  const head = [
    "HTTP/1.1 503 Service Unavailable",
    "Content-Type: application/json; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Retry-After: 1",
    "Connection: close",
  ];
  return Buffer.from(`${head.join("\r\n")}\r\n\r\n${body}`);
}

/** One client connection and its relay. */
interface Relay {
  client: Socket<Relay>;
  backend: Socket<Relay> | null;
  counted: CountedConnection;
  link: GateLink;
  /** Client → HTTP server, and back. */
  up: Flow;
  down: Flow;
  /** The key of the backend socket's local end in `links`, once it is open. */
  linkKey: string | null;
  clientClosed: boolean;
  clientFailed: boolean;
  /** Closes the client when it has not taken the last bytes in time. */
  linger: ReturnType<typeof setTimeout> | undefined;
}

/** The relay of an accepted client, before its connection to the HTTP server is open. */
function createRelay(client: Socket<Relay>, counted: CountedConnection): Relay {
  const relay: Relay = {
    client,
    backend: null,
    counted,
    link: { peer: { address: client.remoteAddress, port: client.remotePort }, authenticated: () => counted.authenticate() },
    // Bytes that arrive before the HTTP server's end is open are held (the client paused).
    up: createFlow(client, { write: (data) => (relay.backend ? relay.backend.write(data) : 0), end: () => relay.backend?.end() }),
    down: createFlow({ pause: () => relay.backend?.pause(), resume: () => relay.backend?.resume() }, { write: (data) => client.write(data), end: () => client.end() }),
    linkKey: null,
    clientClosed: false,
    clientFailed: false,
    linger: undefined,
  };
  return relay;
}

/** Listens on the public address (throws EADDRINUSE as Bun.listen does) and relays to `backend`. */
export function startConnectionGate(options: ConnectionGateOptions): ConnectionGate {
  const now = options.now ?? Date.now;
  const counter = createConnectionCounter(options.limits);
  const links = new Map<string, Relay>();
  const clients = new Set<Relay>();
  const refusals = new Map<ConnectionCapName, { count: number; loggedAt: number }>();
  const refusalBytes = new Map<ConnectionCapName, Uint8Array>();

  const refuse = (socket: Socket<Relay>, cap: ConnectionCapName) => {
    let bytes = refusalBytes.get(cap);
    if (!bytes) refusalBytes.set(cap, (bytes = refusalOf(cap)));
    // With half-open connections off, end() writes, sends the FIN and closes the descriptor at
    // once: the kernel delivers the answer; a client that never closes its side holds nothing here.
    socket.end(bytes);
    const at = now();
    const seen = refusals.get(cap) ?? { count: 0, loggedAt: Number.NEGATIVE_INFINITY };
    seen.count++;
    if (at - seen.loggedAt >= REFUSAL_LOG_INTERVAL_MS) {
      const over = `over server.${cap} (${options.limits[cap]})`;
      options.log(
        seen.loggedAt === Number.NEGATIVE_INFINITY
          ? `connections: refused a new connection from ${socket.remoteAddress} ${over}; further refusals are logged at most once every ${REFUSAL_LOG_INTERVAL_MS / 1000} s`
          : `connections: refused ${seen.count} new connection(s) ${over} since the last such line; the latest from ${socket.remoteAddress}`,
      );
      seen.count = 0;
      seen.loggedAt = at;
    }
    refusals.set(cap, seen);
  };

  /** The HTTP server is done with the connection: the client gets what is left, then is closed. */
  const closeClientSoon = (relay: Relay) => {
    relay.down.end();
    if (relay.clientClosed || relay.linger) return;
    relay.linger = setTimeout(() => relay.client.terminate(), options.lingerMs);
    relay.linger.unref?.();
  };

  const backendHandlers = {
    open(backend: Socket<Relay>) {
      const relay = backend.data;
      if (relay.clientClosed) return void backend.end();
      relay.backend = backend;
      relay.linkKey = `${backend.localAddress}:${backend.localPort}`;
      links.set(relay.linkKey, relay);
      relay.up.drain(); // what arrived meanwhile; resumes the client
    },
    data: (backend: Socket<Relay>, chunk: Uint8Array) => backend.data.down.send(chunk),
    drain: (backend: Socket<Relay>) => backend.data.up.drain(),
    close(backend: Socket<Relay>) {
      const relay = backend.data;
      if (relay.linkKey && links.get(relay.linkKey) === relay) links.delete(relay.linkKey);
      closeClientSoon(relay);
    },
    connectError(backend: Socket<Relay>) {
      backend.data.client.terminate();
    },
    error() {}, // close follows
  };

  const listener: TCPSocketListener<Relay> = Bun.listen<Relay>({
    hostname: options.hostname,
    port: options.port,
    socket: {
      open(client) {
        const counted = counter.open(client.remoteAddress);
        if (typeof counted === "string") return refuse(client, counted);
        client.pause(); // until the HTTP server's end of the relay is open
        const relay = createRelay(client, counted);
        client.data = relay;
        clients.add(relay);
        Bun.connect<Relay>({ hostname: options.backend.hostname, port: options.backend.port, data: relay, socket: backendHandlers }).catch(() => {});
      },
      data: (client, chunk) => client.data?.up.send(chunk),
      drain: (client) => client.data?.down.drain(),
      error(client) {
        if (client.data) client.data.clientFailed = true;
      },
      close(client) {
        const relay = client.data;
        if (!relay) return; // a refused connection
        relay.clientClosed = true;
        clearTimeout(relay.linger);
        clients.delete(relay);
        relay.counted.close();
        // The HTTP server sees the client leave as it would have directly: a reset, or an end.
        if (relay.clientFailed) relay.backend?.terminate();
        else relay.backend?.end();
      },
    },
  });

  return {
    hostname: listener.hostname,
    port: listener.port,
    linkOf: (relay) => (relay ? (links.get(`${relay.address}:${relay.port}`)?.link ?? null) : null),
    stats() {
      let heldBytes = 0;
      for (const relay of clients) heldBytes += relay.up.heldBytes + relay.down.heldBytes;
      return { ...counter.stats(), relays: links.size, clients: clients.size, heldBytes };
    },
    stop(closeActive) {
      listener.stop(closeActive);
      if (closeActive) for (const relay of [...clients]) relay.client.terminate();
    },
  };
}
