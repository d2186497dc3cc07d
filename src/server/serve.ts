// The server entry: the only place (with cli/) that calls Bun.serve or process.exit.
import { chmodSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import type { Isol8Config } from "../config/schema";
import type { DockerClient } from "../engine/docker";
import { type ConnectionGate, startConnectionGate } from "./connection-gate";
import { CLOSE, errorResponse } from "./http";
import type { ServerApp } from "./app";
import { homedir } from "node:os";
import { join } from "node:path";
import { describeStore, type StoreLocation } from "../store/open-store";
import { createServerCore } from "./server-core";

/** The key store of `isol8 serve`: server.database.url, else .path, else ~/.isol8/server/keys.db. */
export function storeLocationOf(config: Isol8Config, home = homedir()): StoreLocation {
  const database = config.server.database;
  if (database.url) return { url: database.url };
  return { path: database.path ?? join(home, ".isol8", "server", "keys.db") };
}

export interface ServeOptions {
  config: Isol8Config;
  /** Accepted API keys (at least one); each is a principal owning its sessions. */
  apiKeys: readonly string[];
  port: number;
  hostname: string;
  /** Writes one log line (the CLI: stderr); lines are formatted per server.logFormat. */
  log: (line: string) => void;
  /** Log at debug level (engine events, container lines), whatever server.logLevel says. */
  debug?: boolean;
  /** Printed once the server listens (the CLI writes it on stdout). */
  onListening: (url: string) => void;
  docker?: DockerClient;
  scope?: string;
  /** Listen on this Unix socket (made 0600) instead of a TCP port (`isol8 serve --local`). */
  unix?: string;
}

export interface RunningServer {
  url: string;
  /** Logs one line in the server's format (info). */
  log(line: string): void;
  /** Drains and removes this server's containers; resolves when done. */
  shutdown(reason: string): Promise<void>;
}

/** Where the HTTP server listens: the loopback address, reached only through the connection gate. */
const BEHIND_THE_GATE = "127.0.0.1";

/** Is the port busy? Tries to listen (Bun.listen throws EADDRINUSE). */
function listen<T>(start: () => T): T | null {
  try {
    return start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE" || /in use/i.test(String(error))) return null;
    throw error;
  }
}

/** What the app may ask of Bun.serve about one request: its idle timeout, and the requests in flight. */
function serverControls(server: Bun.Server<undefined>, request: Request) {
  return {
    setIdleTimeout: (seconds: number) => {
      try {
        server.timeout(request, seconds);
      } catch {} // the client is gone: nothing left to time out
    },
    inFlight: server.pendingRequests,
  };
}

export interface GatedServer {
  /** The public port (the gate's). */
  port: number;
  /**
   * Stops listening, lets the answers in progress reach their clients (at most
   * ANSWER_DRAIN_MS), then closes every connection.
   */
  stop(): Promise<void>;
}

/** How long a stopping server waits for answers it is still writing (a slot is free before its answer is sent). */
const ANSWER_DRAIN_MS = 5_000;

/** Stops the backend gracefully (answers in progress are written) until `until` (epoch ms), then closes what is left. */
async function drainThenClose(server: Bun.Server<undefined>, until: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, until - Date.now()));
  });
  await Promise.race([server.stop(false), late]);
  clearTimeout(timer);
  await server.stop(true);
}

/**
 * Serves the app on `address` through the connection gate (connection-gate.ts): the gate
 * listens there, counts connections, refuses those over a cap and relays the others to
 * Bun.serve on 127.0.0.1:<ephemeral>; each request's peer is the gate's end of the relay, so
 * the gate names the real client. A connection made to Bun.serve around the gate (from this
 * machine) is not served. Null when the address's port is in use.
 */
export function serveThroughGate(app: ServerApp, config: Isol8Config, address: { hostname: string; port: number }, log: (line: string) => void): GatedServer | null {
  let gate: ConnectionGate | null = null;
  const httpServer = Bun.serve({
    port: 0,
    hostname: BEHIND_THE_GATE,
    fetch(request: Request, server: Bun.Server<undefined>) {
      const link = gate?.linkOf(server.requestIP(request));
      if (!link) return errorResponse(403, { code: "forbidden", message: "connect to the server's public address" }, CLOSE);
      return app.fetch(request, { ...serverControls(server, request), peer: link.peer, authenticated: link.authenticated });
    },
    maxRequestBodySize: Number.MAX_SAFE_INTEGER, // the app enforces its own limit (413)
    // Closes idle and stalled connections; the app lifts it while an admitted request works.
    idleTimeout: Math.ceil(config.server.idleTimeoutMs / 1000),
  });
  gate = listen(() =>
    startConnectionGate({
      ...address,
      backend: { hostname: BEHIND_THE_GATE, port: httpServer.port! },
      limits: {
        maxConnections: config.server.maxConnections,
        maxConnectionsPerAddress: config.server.maxConnectionsPerAddress,
        maxUnauthenticatedConnections: config.server.maxUnauthenticatedConnections,
      },
      lingerMs: config.server.idleTimeoutMs,
      log,
    }),
  );
  if (!gate) {
    void httpServer.stop(true);
    return null;
  }
  const opened = gate;
  return {
    port: opened.port,
    async stop() {
      // The gate takes no new connection but keeps relaying: the backend's answers still reach
      // their clients, and each client is closed once its relay has written what it holds.
      opened.stop(false);
      const until = Date.now() + ANSWER_DRAIN_MS;
      await drainThenClose(httpServer, until);
      while (opened.stats().clients > 0 && Date.now() < until) await Bun.sleep(10);
      opened.stop(true);
    },
  };
}

/**
 * Serves the app on a Unix socket made 0600 (`isol8 serve --local`): only this user can
 * connect, so no connection gate stands in front. Null when the socket cannot be made.
 */
function serveOnUnixSocket(app: ServerApp, path: string): GatedServer | null {
  const server = listen(() =>
    Bun.serve({
      unix: path,
      fetch: (request: Request, server: Bun.Server<undefined>) => app.fetch(request, { ...serverControls(server, request), peer: server.requestIP(request) }),
      maxRequestBodySize: Number.MAX_SAFE_INTEGER, // the app enforces its own limit (413)
      // No idle timeout on a Unix socket (Bun has none there): only this user connects.
    }),
  );
  if (!server) return null;
  chmodSync(path, 0o600);
  return { port: 0, stop: () => drainThenClose(server, Date.now() + ANSWER_DRAIN_MS) };
}

async function askForOtherPort(port: number): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`Port ${port} is in use. Listen on a free port instead? [Y/n] `);
  rl.close();
  return !/^n(o)?$/i.test(answer.trim());
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { config } = options;
  // The local daemon (`--local`) holds its one key in memory: no other server's keys are its.
  const store = options.unix ? { path: ":memory:" } : storeLocationOf(config);
  const core = createServerCore({
    config,
    apiKeys: options.apiKeys,
    store,
    log: options.log,
    ...(options.debug ? { debug: true } : {}),
    ...(options.docker ? { docker: options.docker } : {}),
    ...(options.scope ? { scope: options.scope } : {}),
  });
  const { app, engine } = core;

  let listening: GatedServer | null;
  if (options.unix) {
    listening = serveOnUnixSocket(app, options.unix);
    if (!listening) throw new Error(`Cannot listen on "${options.unix}": the socket is in use`);
  } else listening = serveThroughGate(app, config, { hostname: options.hostname, port: options.port }, core.log);
  if (!listening) {
    const other = process.stdin.isTTY ? await askForOtherPort(options.port) : true;
    if (!other) {
      await engine.stop();
      throw Object.assign(new Error(`Cannot listen on port ${options.port}: it is in use`), { exitCode: 1 });
    }
    core.log(`port ${options.port} is in use: listening on a free port instead`);
    listening = serveThroughGate(app, config, { hostname: options.hostname, port: 0 }, core.log);
    if (!listening) throw new Error("Cannot listen on a free port");
  }
  const served = listening;
  const url = options.unix ? `unix:${options.unix}` : `http://${options.hostname === "0.0.0.0" ? "127.0.0.1" : options.hostname}:${served.port}`;
  // The key store opens (and migrates) before the server says it listens: a store that cannot
  // be opened stops the server with its reason instead of failing every request.
  core.tenancy.instance.url = config.server.advertiseUrl ?? url;
  try {
    await core.tenancy.start();
  } catch (error) {
    await served.stop();
    await engine.stop();
    throw Object.assign(new Error(`Cannot open the key store (${describeStore(store)}): ${(error as Error).message}`), { exitCode: 1 });
  }
  core.log(`key store: ${describeStore(store)}; instance ${core.tenancy.instance.id} at ${core.tenancy.instance.url}`);
  options.onListening(url);

  return {
    url,
    log: core.log,
    shutdown: (reason) => core.shutdown(reason, () => served.stop()),
  };
}
