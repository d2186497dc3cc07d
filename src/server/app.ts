import * as v from "valibot";
import { formatIssues } from "../protocol/issues";
import type { Isol8Config } from "../config/schema";
import { sizeToBytes } from "../protocol/sizes";
import type { ExecutionRequest, StreamEvent } from "../protocol/execution";
import { encodeStreamEvent } from "../protocol/sse";
import {
  ConflictError,
  DockerUnavailableError,
  formatError,
  ImageError,
  Isol8Error,
  RequestError,
  SandboxError,
  SessionLostError,
} from "../errors";
import { createKeyCheck, principalOf } from "./auth";
import { errorResponse, HttpError, json, readJson } from "./http";
import type { Slots } from "../lib/slots";
import { applyServerPolicy } from "./policy";
import { CleanupBodySchema, ExecuteBodySchema, PutFileBodySchema, requestOfBody, SessionIdSchema } from "../protocol/http";
import type { Session, SessionManager } from "./sessions";
import type { Isol8 } from "../protocol/isol8";

export interface ServerAppDeps {
  config: Isol8Config;
  apiKey: string;
  version: string;
  /** The built-in runtime images (clients may always ask for them). */
  builtinImages: readonly string[];
  /** The engine (and warm pool) shared by every ephemeral request. */
  engine: Isol8;
  sessions: SessionManager;
  /** Server-wide execution slots (maxConcurrent) with a bounded queue (server.maxQueue). */
  slots: Slots;
  /** Removes this server's idle containers (and images when asked); returns counts. */
  cleanup: (images: boolean) => Promise<{ containers: number; images: number }>;
  log: (line: string) => void;
}

export interface ServerApp {
  fetch(request: Request): Promise<Response>;
  /** Stop taking new work (503); in-flight requests continue. */
  close(): void;
}

type Handler = (request: Request, url: URL, params: Record<string, string>) => Promise<Response>;

function validate<T extends v.GenericSchema>(schema: T, body: unknown): v.InferOutput<T> {
  const result = v.safeParse(schema, body);
  if (!result.success) throw new HttpError(400, formatIssues(result.issues).join("\n"));
  return result.output;
}

/** Maps isol8's own failures to HTTP; anything else is a bare 500 (logged, never shown). */
function failureResponse(error: unknown, log: (line: string) => void): Response {
  if (error instanceof HttpError) return errorResponse(error);
  if (error instanceof RequestError) return json(400, { error: formatError(error), field: error.field });
  if (error instanceof ConflictError) return json(409, { error: error.message });
  if (error instanceof DockerUnavailableError) {
    log(formatError(error));
    return json(503, { error: "container runtime unavailable", retryable: true }, { "retry-after": "2" });
  }
  if (error instanceof ImageError) return json(503, { error: `runtime image unavailable: ${error.message}`, retryable: true });
  if (error instanceof SessionLostError) return json(410, { error: formatError(error) });
  if (error instanceof SandboxError) return json(503, { error: "sandbox terminated", retryable: true }, { "retry-after": "1" });
  if (error instanceof Isol8Error) return json(500, { error: error.message });
  log(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  return json(500, { error: "internal error" });
}

/**
 * The HTTP API as a fetch function (served by Bun.serve in serve.ts, tested in-process).
 * Every body is validated; every route but /health needs the API key.
 */
export function createServerApp(deps: ServerAppDeps): ServerApp {
  const { config, engine, sessions, slots, log } = deps;
  const checkKey = createKeyCheck(deps.apiKey);
  const principal = principalOf(deps.apiKey);
  const maxBody = sizeToBytes(config.server.maxBodySize);
  const maxFile = sizeToBytes(config.server.maxFileSize);
  let closing = false;

  /** Takes an execution slot or answers 429. */
  const slot = () => {
    const waiting = slots.acquire();
    if (!waiting) throw new HttpError(429, "too many executions in progress", {}, { "retry-after": "1" });
    return waiting;
  };

  const sessionFor = (id: string | undefined, create: boolean): Session | undefined => {
    if (id === undefined) return undefined;
    const session = create ? sessions.getOrCreate(id) : sessions.get(id);
    if (session === null) throw new HttpError(429, "too many sessions", {}, { "retry-after": "5" });
    if (!session) throw new HttpError(404, `session "${id}" not found`);
    return session;
  };

  const prepareBody = async (request: Request) => {
    const body = validate(ExecuteBodySchema, await readJson(request, maxBody));
    const effective: ExecutionRequest = applyServerPolicy(requestOfBody(body), { config, builtinImages: deps.builtinImages });
    return { effective, sessionId: body.sessionId };
  };

  const execute: Handler = async (request) => {
    const { effective, sessionId } = await prepareBody(request);
    const session = sessionFor(sessionId, true);
    const release = await slot();
    try {
      const context = { audit: { principal, ...(sessionId ? { sessionId } : {}) }, signal: request.signal };
      const result = session
        ? await sessions.use(session, (e) => e.execute(effective, context))
        : await engine.execute(effective, context);
      return json(200, result);
    } finally {
      release();
    }
  };

  const executeStream: Handler = async (request) => {
    const { effective, sessionId } = await prepareBody(request);
    const session = sessionFor(sessionId, true);
    const target = session?.engine ?? engine;
    const abort = new AbortController();
    const context = { audit: { principal, ...(sessionId ? { sessionId } : {}) }, signal: abort.signal };
    // A bad request throws here, before any event: it is a 400, not an event of a 200 stream.
    const events = target.executeStream(effective, context);
    const release = await slot();
    const encoder = new TextEncoder();
    const send = (controller: ReadableStreamDefaultController<Uint8Array>, event: StreamEvent) =>
      controller.enqueue(encoder.encode(encodeStreamEvent(event)));
    const unhold = session ? sessions.hold(session) : () => {};
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          for await (const event of events) {
            send(controller, event);
          }
        } catch (error) {
          const message = error instanceof Isol8Error ? formatError(error) : "internal error";
          if (!(error instanceof Isol8Error)) log(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
          send(controller, { type: "error", data: message });
        } finally {
          unhold();
          release();
          try {
            controller.close();
          } catch {}
        }
      },
      cancel() {
        abort.abort(); // the client went away: stop the program
      },
    });
    return new Response(stream, {
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" },
    });
  };

  const putFile: Handler = async (request) => {
    const body = validate(PutFileBodySchema, await readJson(request, maxBody));
    const session = sessionFor(body.sessionId, false)!;
    const content = Buffer.from(body.content, "base64");
    if (content.length > maxFile) throw new HttpError(413, `file over ${maxFile} bytes`);
    await sessions.use(session, (e) => e.putFile(body.path, content));
    return json(200, { ok: true });
  };

  const getFile: Handler = async (_request, url) => {
    const id = validate(SessionIdSchema, url.searchParams.get("sessionId") ?? undefined);
    const path = url.searchParams.get("path");
    if (!path) throw new HttpError(400, "path: required");
    const session = sessionFor(id, false)!;
    const content = await sessions.use(session, (e) => e.getFile(path));
    if (content.length > maxFile) throw new HttpError(413, `file over ${maxFile} bytes`);
    return json(200, { content: content.toString("base64") });
  };

  const routes: { method: string; pattern: RegExp; handler: Handler; open?: boolean }[] = [
    {
      method: "GET",
      pattern: /^\/health$/,
      open: true,
      handler: async () => json(closing ? 503 : 200, { status: closing ? "shutting down" : "ok", version: deps.version }),
    },
    { method: "POST", pattern: /^\/execute$/, handler: execute },
    { method: "POST", pattern: /^\/execute\/stream$/, handler: executeStream },
    { method: "POST", pattern: /^\/file$/, handler: putFile },
    { method: "GET", pattern: /^\/file$/, handler: getFile },
    {
      method: "GET",
      pattern: /^\/sessions$/,
      handler: async () =>
        json(200, {
          sessions: sessions.list().map((s) => ({
            id: s.id,
            runtime: s.engine.sessionRuntime,
            containerId: s.engine.sessionContainerId,
            createdAt: new Date(s.createdAt).toISOString(),
            lastUsed: new Date(s.lastUsed).toISOString(),
            active: s.active,
          })),
        }),
    },
    {
      method: "DELETE",
      pattern: /^\/session\/(?<id>[^/]+)$/,
      handler: async (_r, _u, params) => {
        if (!(await sessions.delete(decodeURIComponent(params.id!)))) throw new HttpError(404, `session "${params.id}" not found`);
        return json(200, { deleted: params.id });
      },
    },
    {
      method: "POST",
      pattern: /^\/cleanup$/,
      handler: async (request) => {
        const text = request.headers.get("content-length") === "0" ? "{}" : undefined;
        const body = validate(CleanupBodySchema, text ? JSON.parse(text) : await readJson(request, maxBody).catch(() => ({})));
        const pruned = await sessions.prune({ all: true });
        const removed = await deps.cleanup(Boolean(body.images));
        return json(200, { sessions: pruned.length, ...removed });
      },
    },
  ];

  return {
    close() {
      closing = true;
    },
    async fetch(request) {
      const url = new URL(request.url);
      try {
        const matching = routes.filter((r) => r.pattern.test(url.pathname));
        if (matching.length === 0) throw new HttpError(404, "not found");
        const route = matching.find((r) => r.method === request.method);
        if (!route) throw new HttpError(404, "not found");
        if (!route.open) {
          const denied = checkKey(request.headers.get("authorization"));
          if (denied === 401) throw new HttpError(401, "missing API key: send Authorization: Bearer <key>", {}, { "www-authenticate": "Bearer" });
          if (denied === 403) throw new HttpError(403, "invalid API key");
          if (closing) throw new HttpError(503, "server shutting down", { retryable: true });
        }
        const params = route.pattern.exec(url.pathname)?.groups ?? {};
        return await route.handler(request, url, params);
      } catch (error) {
        return failureResponse(error, log);
      }
    },
  };
}
