// The HTTP API in-process, for embedders: the same app and wiring as `isol8 serve`, without
// listening. Serve its `fetch` with Bun.serve, Deno.serve, or a Node adapter; call `stop()`.
import { loadConfig } from "../config/load";
import { parseConfig } from "../config/load";
import type { Isol8Config, Isol8ConfigInput } from "../config/schema";
import type { DockerClient } from "../engine/docker";
import { UsageError } from "../errors";
import { createServerCore } from "./server-core";

export interface CreateServerOptions {
  /** The API key clients send as `Authorization: Bearer <key>` (or several with `apiKeys`; default $ISOL8_API_KEY). */
  apiKey?: string;
  apiKeys?: readonly string[];
  /** The port the embedder serves `fetch` on, handed back as `port` (createServer itself does not listen). */
  port?: number;
  /** Configuration (default: loadConfig(), i.e. ./isol8.config.json, ~/.isol8/config.json, defaults). */
  config?: Isol8Config | Isol8ConfigInput;
  /** Server and engine log lines (default: dropped). */
  log?: (line: string) => void;
  docker?: DockerClient;
  /** Repository of isol8's images (default $ISOL8_IMAGE_REPOSITORY, else "isol8"). */
  imageRepository?: string;
  /** Extra label value on every container (tests sweep by it). */
  scope?: string;
}

export interface InProcessServer {
  /** Answers one HTTP request (the routes of `isol8 serve`). */
  fetch(request: Request): Promise<Response>;
  /** Stops taking requests, lets in-flight executions finish (server.shutdownGraceMs), removes every container. */
  stop(): Promise<void>;
  /** `options.port`, for the caller's listener. */
  port: number | undefined;
  /** isol8 0.x spellings: `app.fetch` and `shutdown()`. */
  app: { fetch(request: Request): Promise<Response> };
  shutdown(): Promise<void>;
}

function apiKeysOf(options: CreateServerOptions): string[] {
  const keys = options.apiKeys?.length ? [...options.apiKeys] : options.apiKey !== undefined ? [options.apiKey] : process.env.ISOL8_API_KEY ? [process.env.ISOL8_API_KEY] : [];
  if (keys.length === 0) throw new UsageError("Cannot create the server: no API key", "pass apiKey (or apiKeys), or set ISOL8_API_KEY");
  if (keys.some((key) => key === "" || key.trim() !== key)) {
    throw new UsageError("Cannot create the server with an API key: it is empty or starts or ends with whitespace", "no client could present such a key");
  }
  return keys;
}

/**
 * The HTTP API of `isol8 serve` as a fetch function in this process (one engine and warm pool
 * for ephemeral requests, a persistent container per session), e.g.
 * `Bun.serve({ port, fetch: createServer({ apiKey }).fetch })`.
 */
export function createServer(options: CreateServerOptions = {}): InProcessServer {
  const apiKeys = apiKeysOf(options);
  const config = options.config === undefined ? loadConfig().config : parseConfig(options.config, "(createServer config)");
  const database = config.server.database;
  const core = createServerCore({
    config,
    apiKeys,
    // In-process: the configured store, else a private one that lives as long as the server.
    store: database.url ? { url: database.url } : { path: database.path ?? ":memory:" },
    optionalStore: !database.url && !database.path,
    log: options.log ?? (() => {}),
    ...(options.docker ? { docker: options.docker } : {}),
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.imageRepository ? { engine: { imageRepository: options.imageRepository } } : {}),
  });
  const fetch = (request: Request) => core.app.fetch(request);
  const stop = () => core.shutdown("stop");
  return { fetch, stop, port: options.port, app: { fetch }, shutdown: stop };
}
