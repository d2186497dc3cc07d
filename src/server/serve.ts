// The server entry: the only place (with cli/) that calls Bun.serve or process.exit.
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline/promises";
import type { Isol8Config } from "../config/schema";
import { createDockerClient, type DockerClient } from "../engine/docker";
import { DockerIsol8 } from "../engine/engine";
import { DockerUnavailableError, formatError } from "../errors";
import { RUNTIME_NAMES } from "../runtimes/registry";
import { findContainers, sweepContainers } from "../engine/cleanup";
import { removeImages } from "../engine/images/remove-images";
import { isol8Selector } from "../engine/labels";
import { VERSION } from "../version";
import { createServerApp } from "./app";
import { Slots } from "../lib/slots";
import { SessionManager } from "./sessions";

/** Owner ids of server instances start with this (a hint for people reading labels). */
const SERVER_OWNER_PREFIX = "srv-";

export interface ServeOptions {
  config: Isol8Config;
  /** Accepted API keys (at least one); each is a principal owning its sessions. */
  apiKeys: readonly string[];
  port: number;
  hostname: string;
  log: (line: string) => void;
  /** Printed once the server listens (the CLI writes it on stdout). */
  onListening: (url: string) => void;
  docker?: DockerClient;
  scope?: string;
}

export interface RunningServer {
  url: string;
  /** Drains and removes this server's containers; resolves when done. */
  shutdown(reason: string): Promise<void>;
}

/** Is the port busy? Tries to listen (Bun.serve throws EADDRINUSE). */
function listen(options: Parameters<typeof Bun.serve>[0]) {
  try {
    return Bun.serve(options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE" || /in use/i.test(String(error))) return null;
    throw error;
  }
}

async function askForOtherPort(port: number): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`Port ${port} is in use. Listen on a free port instead? [Y/n] `);
  rl.close();
  return !/^n(o)?$/i.test(answer.trim());
}

/**
 * Starts the engine as soon as Docker answers: at once when it does, else retrying with backoff
 * (one attempt per 2 s at first, at most every 30 s), then warms the default runtime.
 */
async function connectToDocker(engine: DockerIsol8, log: (line: string) => void, stopped = () => false): Promise<void> {
  for (let delay = 2_000; !stopped(); delay = Math.min(delay * 2, 30_000)) {
    try {
      await engine.start();
      break;
    } catch (error) {
      if (!(error instanceof DockerUnavailableError)) throw error;
      log(`${formatError(error).split("\n")[0]}; serving degraded (executions get 503), trying again in ${delay / 1000} s`);
      await Bun.sleep(delay);
    }
  }
  // Warm the default runtime in the background; requests never wait for it.
  void engine.start({ prewarm: ["python"] }).catch((error) => log(`prewarm failed: ${(error as Error).message}`));
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { config, log } = options;
  const docker = options.docker ?? createDockerClient();
  const owner = `${SERVER_OWNER_PREFIX}${randomUUID().slice(0, 12)}`;
  const engineOptions = { config, docker, owner, log, ...(options.scope ? { scope: options.scope } : {}) };
  const engine = new DockerIsol8(engineOptions);
  // Serve even when Docker cannot be reached yet (degraded: execution routes answer 503 with
  // Retry-After); keep trying in the background and warm the pool once it answers. start()
  // also removes the containers of isol8 processes that are gone (a killed server's pooled and
  // session containers among them), identified by pid, start time and boot.
  let shuttingDown = false;
  void connectToDocker(engine, log, () => shuttingDown).catch((error) => log(`cannot start the engine: ${formatError(error)}`));

  const sessions = new SessionManager(() => new DockerIsol8({ ...engineOptions, mode: "persistent" }), {
    maxSessions: config.server.maxSessions,
    idleMs: config.cleanup.maxContainerAgeMs,
  });
  const slots = new Slots(config.maxConcurrent, config.server.maxQueue);
  const app = createServerApp({
    config,
    builtinImages: RUNTIME_NAMES.map((name) => engine.imageManager.names.runtime(name)),
    apiKeys: options.apiKeys,
    version: VERSION,
    engine,
    sessions,
    slots,
    log,
    cleanup: async (images) => {
      const containers = await engine.releaseIdle();
      return { containers, images: images ? await removeImages(docker, isol8Selector()) : 0 };
    },
  });

  const serveOptions = (port: number) => ({
    port,
    hostname: options.hostname,
    fetch: (request: Request, server: Bun.Server<undefined>) =>
      app.fetch(request, {
        peer: server.requestIP(request),
        setIdleTimeout: (seconds: number) => {
          try {
            server.timeout(request, seconds);
          } catch {} // the client is gone: nothing left to time out
        },
        inFlight: server.pendingRequests,
      }),
    maxRequestBodySize: Number.MAX_SAFE_INTEGER, // the app enforces its own limit (413)
    // Closes idle and stalled connections; the app lifts it while an admitted request works.
    idleTimeout: Math.ceil(config.server.idleTimeoutMs / 1000),
  });
  let server = listen(serveOptions(options.port));
  if (!server) {
    const other = process.stdin.isTTY ? await askForOtherPort(options.port) : true;
    if (!other) {
      await engine.stop();
      throw Object.assign(new Error(`Cannot listen on port ${options.port}: it is in use`), { exitCode: 1 });
    }
    log(`port ${options.port} is in use: listening on a free port instead`);
    server = listen(serveOptions(0));
    if (!server) throw new Error("Cannot listen on a free port");
  }
  const url = `http://${options.hostname === "0.0.0.0" ? "127.0.0.1" : options.hostname}:${server.port}`;
  options.onListening(url);

  const pruner = setInterval(() => {
    if (!config.cleanup.autoPrune) return;
    void sessions.prune().then((ids) => ids.length && log(`pruned ${ids.length} idle session(s)`));
  }, Math.min(60_000, Math.max(1_000, config.cleanup.maxContainerAgeMs / 4)));
  pruner.unref();

  let stopping: Promise<void> | null = null;
  return {
    url,
    shutdown(reason) {
      stopping ??= (async () => {
        shuttingDown = true;
        log(`${reason}: no new requests; waiting for ${slots.inFlight} in-flight execution(s)`);
        app.close();
        clearInterval(pruner);
        const deadline = Date.now() + config.server.shutdownGraceMs;
        while (slots.inFlight > 0 && Date.now() < deadline) await Bun.sleep(50);
        server!.stop(true);
        await sessions.stopAll();
        await engine.stop();
        const left = await sweepContainers(docker, { owner });
        if (left.length) log(`removed ${left.length} remaining container(s)`);
        const still = await findContainers(docker, { owner });
        log(`stopped (${still.length} container(s) of this server left)`);
      })();
      return stopping;
    },
  };
}
