/**
 * The host-side filtering proxy of `filtered` network mode. A sandbox has no network of its
 * own; an isol8-owned forwarder inside it relays each TCP connection to a unix socket that
 * this proxy listens on, one socket per container. Which socket a connection arrives on
 * (its listener key) says which sandbox sent it, so the policy of the execution running
 * there applies, and its log entries go to that execution only.
 */
import { lookup } from "node:dns/promises";
import { chmod, lstat, unlink } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { RequestError } from "../../errors";
import { canonicalHost, classifyAddress } from "./address-policy";
import { parseIpLiteral } from "./ip-address";
import { compileCidrs, compileHostPolicy, decideDestination, type DestinationRules, type HostPolicy, type HostPolicyInput } from "./host-policy";
import { proxyResponse } from "./http-head";
import type { NetworkLogEntry } from "../../protocol/execution";
import { createTextMask, toLogEntry } from "./network-log";
import { ProxyConnection, type ProxyLimits } from "./proxy-connection";

export interface FilteringProxyOptions {
  /** Resolves a (canonical) name to addresses; default: node:dns lookup, all addresses. */
  resolve?: (host: string) => Promise<string[]>;
  /** Static names → addresses, consulted before `resolve` (tests, split-horizon). Still subject to the address checks. */
  hosts?: Readonly<Record<string, string | readonly string[]>>;
  /** Destination ports allowed; default 80 and 443. */
  allowedPorts?: readonly number[];
  /** Ranges that IP literals and internal (loopback, private, …) addresses must be inside; default none. */
  allowedCidrs?: readonly string[];
  /** Diagnostics (listener failures, refused connections); never receives request data. */
  log?: (message: string) => void;
  /** Concurrent connections per listener key; more are answered 503. Default 64. */
  maxConnectionsPerKey?: number;
  /** Log entries kept per key between takes; later ones are dropped. Default 1000. */
  maxLogEntries?: number;
  limits?: Partial<ProxyLimits>;
  /** Told of each request's verdict as it is recorded (metrics); never receives request data. */
  onRequest?: (action: NetworkLogEntry["action"]) => void;
}

/** One execution's network policy. */
export interface ExecutionNetworkPolicy extends HostPolicyInput {
  /** Collect log entries for `takeLogs`. */
  logRequests?: boolean;
  /** Secret values shown as `***` in logged hosts, paths and reasons. */
  maskValues?: readonly string[];
}

export interface ProxyListener {
  readonly key: string;
  /** The unix socket path, or the TCP address. */
  readonly address: { path: string } | { host: string; port: number };
  /** Stops listening, ends this listener's connections, removes the socket file. */
  close(): Promise<void>;
}

export const DEFAULT_LIMITS: ProxyLimits = {
  maxHeaderBytes: 64 * 1024,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
};

interface ActivePolicy {
  hosts: HostPolicy;
  logRequests: boolean;
  mask: (text: string) => string;
}

interface KeyState {
  policy: ActivePolicy | null;
  /** Bumped by every setPolicy/clearPolicy: a connection only reports to the generation it was admitted in. */
  generation: number;
  logs: NetworkLogEntry[];
  bytes: { in: number; out: number };
  connections: Set<ProxyConnection>;
  listeners: number;
}

const noop = () => {};

export class FilteringProxy {
  private readonly rules: DestinationRules;
  private readonly selfPorts = new Set<number>();
  private readonly limits: ProxyLimits;
  private readonly maxConnectionsPerKey: number;
  private readonly maxLogEntries: number;
  private readonly log: (message: string) => void;
  private readonly onRequest: (action: NetworkLogEntry["action"]) => void;
  private readonly keys = new Map<string, KeyState>();
  private readonly listeners = new Set<ProxyListener>();

  constructor(options: FilteringProxyOptions = {}) {
    const ports = options.allowedPorts ?? [80, 443];
    for (const port of ports) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new RequestError(`Cannot allow port "${port}": not a port number`, "allowedPorts");
      }
    }
    this.rules = {
      allowedPorts: new Set(ports),
      allowedCidrs: compileCidrs(options.allowedCidrs ?? []),
      hosts: staticHosts(options.hosts ?? {}),
      resolve: options.resolve ?? resolveAll,
      selfPorts: this.selfPorts,
    };
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.maxConnectionsPerKey = options.maxConnectionsPerKey ?? 64;
    this.maxLogEntries = options.maxLogEntries ?? 1000;
    this.log = options.log ?? noop;
    this.onRequest = options.onRequest ?? noop;
  }

  /**
   * Listens on a unix socket for one key (a container). A stale socket file at `path` is
   * replaced; any other file there is an error. The socket is chmod-ed to `mode` (0600).
   */
  async listenUnix(key: string, path: string, options: { mode?: number } = {}): Promise<ProxyListener> {
    const existing = await lstat(path).catch(() => null);
    if (existing && !existing.isSocket()) throw new Error(`Cannot listen on "${path}": a file that is not a socket is there`);
    if (existing) await unlink(path);
    const listener = await this.listen(key, { path }, async () => {
      await unlink(path).catch(noop);
    });
    await chmod(path, options.mode ?? 0o600);
    return listener;
  }

  /** Listens on a loopback TCP port for one key (tests, or a forwarder that cannot use unix sockets). */
  async listenTcp(key: string, port = 0, host = "127.0.0.1"): Promise<ProxyListener> {
    const ip = parseIpLiteral(host);
    if (!ip || classifyAddress(ip) !== "loopback") {
      throw new Error(`Cannot listen on "${host}": the proxy listens on loopback addresses only`);
    }
    return this.listen(key, { host, port });
  }

  /** Starts an execution's policy for a key; ends its earlier connections and drops untaken logs. Throws RequestError for invalid patterns. */
  setPolicy(key: string, policy: ExecutionNetworkPolicy): void {
    const compiled: ActivePolicy = {
      hosts: compileHostPolicy(policy),
      logRequests: policy.logRequests ?? false,
      mask: createTextMask(policy.maskValues ?? []),
    };
    const state = this.state(key);
    this.endConnections(state, "a new execution started");
    state.generation++;
    state.logs = [];
    state.bytes = { in: 0, out: 0 };
    state.policy = compiled;
  }

  /** Ends the key's execution: its connections are cut (and logged); new ones get 403. Logs stay until taken. */
  clearPolicy(key: string): void {
    const state = this.keys.get(key);
    if (!state) return;
    this.endConnections(state, "execution ended");
    state.generation++;
    state.policy = null;
    this.forgetIfIdle(key, state);
  }

  /** Log entries collected for the key since the last take. */
  takeLogs(key: string): NetworkLogEntry[] {
    const state = this.keys.get(key);
    if (!state) return [];
    const logs = state.logs;
    state.logs = [];
    this.forgetIfIdle(key, state);
    return logs;
  }

  /** Bytes moved for the key since the last take: `in` toward the sandbox, `out` toward upstreams. */
  takeBytes(key: string): { in: number; out: number } {
    const state = this.keys.get(key);
    if (!state) return { in: 0, out: 0 };
    const bytes = state.bytes;
    state.bytes = { in: 0, out: 0 };
    this.forgetIfIdle(key, state);
    return bytes;
  }

  /** Closes every listener and connection. */
  async close(): Promise<void> {
    await Promise.all([...this.listeners].map((l) => l.close()));
    for (const state of this.keys.values()) this.endConnections(state, "proxy closed");
    this.keys.clear();
  }

  private async listen(key: string, address: { path: string } | { host: string; port: number }, cleanup?: () => Promise<void>): Promise<ProxyListener> {
    const connections = new Set<ProxyConnection>();
    const sockets = new Set<Socket>(); // refused ones too, so closing never waits on a lingering client
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      this.accept(key, socket, connections);
    });
    server.on("error", (error) => this.log(`network proxy listener "${key}": ${error.message}`));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      if ("path" in address) server.listen(address.path, resolve);
      else server.listen(address.port, address.host, resolve);
    });
    const bound = server.address();
    const where = "path" in address ? address : { host: address.host, port: typeof bound === "object" && bound ? bound.port : address.port };
    if (!("path" in where)) this.selfPorts.add(where.port);
    this.state(key).listeners++;
    let closing: Promise<void> | null = null;
    const listener: ProxyListener = {
      key,
      address: where,
      close: () =>
        (closing ??= (async () => {
          this.listeners.delete(listener);
          if (!("path" in where)) this.selfPorts.delete(where.port);
          for (const connection of [...connections]) connection.finish("listener closed");
          for (const socket of sockets) socket.destroy();
          await closeServer(server);
          await cleanup?.();
          const state = this.keys.get(key);
          if (state) {
            state.listeners--;
            this.forgetIfIdle(key, state);
          }
        })()),
    };
    this.listeners.add(listener);
    return listener;
  }

  private accept(key: string, socket: Socket, listenerConnections: Set<ProxyConnection>): void {
    socket.on("error", noop);
    const state = this.keys.get(key);
    const active = state?.policy;
    if (!state || !active) return refuseSocket(socket, 403, "no execution is running");
    if (state.connections.size >= this.maxConnectionsPerKey) {
      this.log(`network proxy "${key}": connection refused, ${this.maxConnectionsPerKey} already open`);
      return refuseSocket(socket, 503, "too many connections");
    }
    const generation = state.generation;
    const current = () => state.generation === generation;
    const connection: ProxyConnection = new ProxyConnection(socket, this.limits, {
      decide: (host, port) => decideDestination(active.hosts, host, port, this.rules),
      countBytes: (bytesIn, bytesOut) => {
        if (!current()) return;
        state.bytes.in += bytesIn;
        state.bytes.out += bytesOut;
      },
      record: (outcome) => {
        this.onRequest(outcome.action);
        if (current() && active.logRequests && state.logs.length < this.maxLogEntries) state.logs.push(toLogEntry(outcome, active.mask));
      },
      closed: () => {
        state.connections.delete(connection);
        listenerConnections.delete(connection);
      },
    });
    state.connections.add(connection);
    listenerConnections.add(connection);
  }

  private state(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = { policy: null, generation: 0, logs: [], bytes: { in: 0, out: 0 }, connections: new Set(), listeners: 0 };
      this.keys.set(key, state);
    }
    return state;
  }

  private endConnections(state: KeyState, reason: string): void {
    for (const connection of [...state.connections]) connection.finish(reason);
  }

  private forgetIfIdle(key: string, state: KeyState): void {
    const untaken = state.logs.length > 0 || state.bytes.in > 0 || state.bytes.out > 0;
    if (!state.policy && state.listeners === 0 && state.connections.size === 0 && !untaken) this.keys.delete(key);
  }
}

export function createFilteringProxy(options: FilteringProxyOptions = {}): FilteringProxy {
  return new FilteringProxy(options);
}

/** The default resolver: every address the system resolver returns. */
async function resolveAll(host: string): Promise<string[]> {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

function staticHosts(hosts: Readonly<Record<string, string | readonly string[]>>): Map<string, readonly string[]> {
  const map = new Map<string, readonly string[]>();
  for (const [name, value] of Object.entries(hosts)) {
    const canonical = canonicalHost(name);
    if (!canonical) throw new RequestError(`Cannot use static host "${name}": not a valid host name`, "hosts");
    const addresses = typeof value === "string" ? [value] : [...value];
    const bad = addresses.find((address) => !parseIpLiteral(address));
    if (bad !== undefined) throw new RequestError(`Cannot use static host "${name}": "${bad}" is not an IP address`, "hosts");
    map.set(canonical, addresses);
  }
  return map;
}

/** Answers a connection that gets no request handling at all, and lets it close. */
function refuseSocket(socket: Socket, status: number, reason: string): void {
  socket.end(proxyResponse(status, reason));
  socket.resume();
  socket.setTimeout(5_000, () => socket.destroy());
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
