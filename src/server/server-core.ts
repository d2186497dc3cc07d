// The server's parts wired together: the engine shared by ephemeral requests, a persistent
// engine per session, the execution slots, the HTTP app, its logs, metrics and readiness, and
// the shutdown sequence. No Bun APIs and no listening: `isol8 serve` (serve.ts) puts it behind Bun.serve, and embedders get
// it in-process from createServer (create-server.ts).
import { randomUUID } from "node:crypto";
import type { Isol8Config } from "../config/schema";
import { findContainers, sweepContainers } from "../engine/cleanup";
import { createDockerClient, type DockerClient } from "../engine/docker";
import { DockerIsol8, type DockerIsol8Options } from "../engine/engine";
import { removeImages } from "../engine/images/remove-images";
import { isol8Selector } from "../engine/labels";
import { DockerUnavailableError, formatError } from "../errors";
import { Slots } from "../lib/slots";
import { RUNTIME_NAMES } from "../runtimes/registry";
import { VERSION } from "../version";
import { createServerApp, type ServerApp } from "./app";
import { SessionManager } from "./sessions";
import { PLAYGROUND } from "../assets";
import type { EngineEvent } from "../protocol/observe";
import { createServerLogger, type LogLevel } from "./logging";
import { createMetrics } from "./metrics";
import { createReadiness } from "./readiness";
import { openKeyStore, type StoreLocation } from "../store/open-store";
import { createTenancy, type Tenancy } from "./tenancy";

/** Owner ids of server instances start with this (a hint for people reading labels). */
const SERVER_OWNER_PREFIX = "srv-";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ServerCoreOptions {
  config: Isol8Config;
  /** The bootstrap (admin) keys (at least one); each is a principal owning its sessions. */
  apiKeys: readonly string[];
  /** The key store: server.database.url, else this SQLite file (createServer: ":memory:" unless the config names one). */
  store: StoreLocation;
  /** The store is a private in-memory one: when it cannot be opened (under Node), serve the bootstrap keys without it. */
  optionalStore?: boolean;
  /** Writes one log line (the CLI: stderr); lines are formatted per server.logFormat. */
  log: (line: string) => void;
  /** Log at debug level (engine events, container lines), whatever server.logLevel says. */
  debug?: boolean;
  docker?: DockerClient;
  scope?: string;
  /** More options for every engine of the server (createServer's embedders: imageRepository, ...). */
  engine?: Pick<DockerIsol8Options, "imageRepository" | "cacheDir" | "onImageProgress">;
}

export interface ServerCore {
  app: ServerApp;
  engine: DockerIsol8;
  /** Keys, quotas, this instance: start() it once the server's URL is known (it opens the store). */
  tenancy: Tenancy;
  /** Logs one line in the server's format (info). */
  log(line: string): void;
  /**
   * Stops taking work (503), waits up to server.shutdownGraceMs for in-flight executions,
   * awaits `stopListening` (the answers in progress are written), then removes every session
   * and container of this server.
   */
  shutdown(reason: string, stopListening?: () => Promise<void>): Promise<void>;
}

/**
 * Starts the engine as soon as Docker answers: at once when it does, else retrying with backoff
 * (one attempt per 2 s at first, at most every 30 s), then warms the default runtime.
 */
async function connectToDocker(engine: DockerIsol8, log: (line: string) => void, stopped = () => false, warmed = () => {}): Promise<void> {
  for (let delay = 2_000; !stopped(); delay = Math.min(delay * 2, 30_000)) {
    try {
      await engine.start();
      break;
    } catch (error) {
      if (!(error instanceof DockerUnavailableError)) throw error;
      log(`${formatError(error).split("\n")[0]}; serving degraded (executions get 503), trying again in ${delay / 1000} s`);
      await sleep(delay);
    }
  }
  if (stopped()) return;
  // Warm the default runtime in the background; requests never wait for it.
  void engine.start({ prewarm: ["python"] }).then(warmed, (error) => log(`prewarm failed: ${(error as Error).message}`));
}

/** The level of a plain log line of the engine or the app (container chatter is debug). */
function levelOfLine(line: string): LogLevel {
  if (line.startsWith("unexpected error")) return "error";
  return line.startsWith("container ") ? "debug" : "info";
}

export function createServerCore(options: ServerCoreOptions): ServerCore {
  const { config } = options;
  const logger = createServerLogger({
    format: config.server.logFormat,
    level: options.debug ? "debug" : config.server.logLevel,
    write: options.log,
  });
  const log = (line: string) => logger.log(levelOfLine(line), line);
  // Metrics and logs observe the engine (one hook) and the app (one hook): nothing else reports to them.
  let slots!: Slots;
  let sessions!: SessionManager;
  let engine!: DockerIsol8;
  const metrics = createMetrics({
    queueDepth: () => slots.waiting,
    inFlight: () => slots.inFlight,
    pools: () => engine.poolStatsByRuntime(),
    sessions: () => sessions.list().length,
  });
  const observe = (event: EngineEvent) => {
    metrics.observeEngine(event);
    logger.engine(event);
  };
  const docker = options.docker ?? createDockerClient({}, (operation) => observe({ type: "docker-error", operation }));
  const owner = `${SERVER_OWNER_PREFIX}${randomUUID().slice(0, 12)}`;
  const engineOptions: DockerIsol8Options = { ...options.engine, config, docker, owner, log, observe, ...(options.scope ? { scope: options.scope } : {}) };
  engine = new DockerIsol8(engineOptions);
  // Serve even when Docker cannot be reached yet (degraded: execution routes answer 503 with
  // Retry-After); keep trying in the background and warm the pool once it answers. start()
  // also removes the containers of isol8 processes that are gone (a killed server's pooled and
  // session containers among them), identified by pid, start time and boot.
  let shuttingDown = false;
  let warmed = engine.poolStats() === null; // no pool: nothing to warm
  void connectToDocker(engine, log, () => shuttingDown, () => (warmed = true)).catch((error) => log(`cannot start the engine: ${formatError(error)}`));
  const builtinImages = RUNTIME_NAMES.map((name) => engine.imageManager.names.runtime(name));
  const ready = createReadiness({
    docker: () => docker.ping(2_000),
    missingImages: async () => {
      const found = await Promise.all(builtinImages.map((ref) => docker.inspectImage(ref)));
      return builtinImages.filter((_, i) => found[i] === null);
    },
    poolWarmed: () => warmed,
    closing: () => shuttingDown,
  });

  sessions = new SessionManager((runtime, image) => new DockerIsol8({ ...engineOptions, mode: "persistent", ...(runtime ? { runtime } : {}), ...(image ? { image } : {}) }), {
    maxSessions: config.server.maxSessions,
    idleMs: config.cleanup.maxContainerAgeMs,
  });
  slots = new Slots(config.maxConcurrent, config.server.maxQueue);
  const tenancy = createTenancy({
    adminKeys: options.apiKeys,
    store: openKeyStore(options.store),
    url: config.server.advertiseUrl ?? null,
    log,
    ...(options.optionalStore ? { optional: true } : {}),
  });
  const app = createServerApp({
    config,
    builtinImages,
    tenancy,
    version: VERSION,
    engine,
    sessions,
    slots,
    log,
    observe: (event) => {
      metrics.observeRequest(event);
      logger.request(event);
    },
    ready,
    metrics: () => metrics.render(),
    playground: PLAYGROUND,
    cleanup: async (images) => {
      const containers = await engine.releaseIdle();
      return { containers, images: images ? await removeImages(docker, isol8Selector()) : 0 };
    },
    runtimes: () => engine.runtimeStatus(),
  });

  const pruner = setInterval(() => {
    if (!config.cleanup.autoPrune) return;
    void sessions.prune().then((ids) => ids.length && log(`pruned ${ids.length} idle session(s)`));
  }, Math.min(60_000, Math.max(1_000, config.cleanup.maxContainerAgeMs / 4)));
  pruner.unref?.();

  let stopping: Promise<void> | null = null;
  return {
    app,
    engine,
    tenancy,
    log: (line) => logger.log("info", line),
    shutdown(reason, stopListening) {
      stopping ??= (async () => {
        shuttingDown = true;
        log(`${reason}: no new requests; waiting for ${slots.inFlight} in-flight execution(s)`);
        app.close();
        clearInterval(pruner);
        const deadline = Date.now() + config.server.shutdownGraceMs;
        while (slots.inFlight > 0 && Date.now() < deadline) await sleep(50);
        await stopListening?.();
        await sessions.stopAll();
        await tenancy.close().catch((error) => log(`key store: ${(error as Error).message}`));
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
