import * as v from "valibot";
import { formatIssues } from "../protocol/issues";
import type { Isol8Config } from "../config/schema";
import { sizeToBytes } from "../protocol/sizes";
import type { ExecutionRequest } from "../protocol/execution";
import { base64DecodedLength } from "../protocol/base64";
import { formatError, Isol8Error } from "../errors";
import { createAdmission } from "./admission";
import type { Peer } from "./auth-throttle";
import { failureResponse } from "./failure-response";
import { CLOSE, decodePathSegment, HttpError, json, readJson } from "./http";
import { streamedJson } from "./json-response";
import type { Slots } from "../lib/slots";
import { onResponseEnd } from "../lib/response-end";
import { applyServerPolicy, narrow, serverClamps } from "./policy";
import {
  CleanupBodySchema,
  CreateSessionBodySchema,
  type CreatedSession,
  ExecuteBodySchema,
  GetFileQuerySchema,
  PutFileBodySchema,
  requestOfBody,
  SessionIdSchema,
} from "../protocol/http";
import type { RuntimeInfo } from "../protocol/runtime-info";
import type { RuntimeName } from "../runtimes/registry";
import type { Session, SessionManager } from "./sessions";
import type { Isol8 } from "../protocol/isol8";
import { randomUUID } from "node:crypto";
import { createTokenCheck } from "./auth";
import { ElsewhereError, forwardRequest, INSTANCE_HEADER } from "./forward";
import type { Caller } from "./key-service";
import { keyRoutes } from "./key-routes";
import { inMemoryTenancy, type Tenancy } from "./tenancy";
import { corsHeaders, isPreflight, preflightResponse } from "./cors";
import { openApiDocument } from "./openapi";
import { playgroundResponse, type PlaygroundAssets } from "./playground";
import type { Readiness } from "./readiness";
import { acceptedRequestId, type RequestEvent } from "./request-event";
import { createRouter, type RouteSpec } from "./routes";
import { eventStreamResponse } from "./event-stream";
import { createStreamBuffers, DEFAULT_STREAM_BUFFER_LIMITS, type StreamBuffers } from "./sse-buffer";
import { createContextRoutes } from "./context-routes";
import { createMcpRoute } from "./mcp-route";

export interface ServerAppDeps {
  config: Isol8Config;
  /**
   * Keys, quotas, this instance and the session directory (tenancy.ts). Absent: a private
   * in-memory store with `apiKeys` as the bootstrap (admin) keys.
   */
  tenancy?: Tenancy;
  /** The bootstrap keys when no tenancy is given: each one is a principal, owning the sessions it creates. */
  apiKeys?: readonly string[];
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
  /** The runtimes and the state of their images (`GET /runtimes`). */
  runtimes?: () => Promise<RuntimeInfo[]>;
  log: (line: string) => void;
  /** The clock of the authentication throttle (tests pass their own). */
  now?: () => number;
  /** How often an event stream sends a heartbeat comment (default 15 s). */
  heartbeatMs?: number;
  /** Told of every answered request (the access log and metrics subscribe in serve.ts). */
  observe?: (event: RequestEvent) => void;
  /** Readiness for GET /ready (default: ready while not closing). */
  ready?: () => Promise<Readiness>;
  /** The Prometheus exposition for GET /metrics (absent: 404). */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The playground's assets for GET / (absent or `server.playground` false: 404). */
  playground?: PlaygroundAssets;
  /** The kept events of streamed executions, for resuming (default: the standard bounds). */
  streams?: StreamBuffers;
  /** Makes the id of a request that brings no usable X-Request-Id (default: a UUID). */
  newRequestId?: () => string;
}

/** What the HTTP server knows of a request beyond the request (Bun.serve in serve.ts; absent in-process). */
export interface RequestContext {
  /** The peer of the request's connection; null for a Unix socket or an in-process call. */
  peer: Peer | null;
  /** Sets this request's idle timeout in seconds (0: none). */
  setIdleTimeout(seconds: number): void;
  /** Requests in progress on the server, this one included. */
  inFlight: number;
  /** A request on this connection was admitted with a key (or the metrics token): the connection gate stops counting it as unauthenticated. */
  authenticated(): void;
}

export interface ServerApp {
  fetch(request: Request, context?: Partial<RequestContext>): Promise<Response>;
  /** Every route (method and path template), as GET /openapi.json must document them. */
  readonly routes: readonly RouteSpec[];
  /** Stop taking new work (503); in-flight requests continue. */
  close(): void;
}

/** A comment frame this often keeps proxies from closing a silent event stream, and finds clients that left. */
const HEARTBEAT_MS = 15_000;

/** One admitted request as its handler sees it. */
export interface Call {
  url: URL;
  params: Record<string, string>;
  /** The principal of the key the request came with: it owns the sessions it names. */
  principal: string;
  /** Who the key is: admin or a store key with its policy and quotas. */
  caller: Caller;
  /** The JSON body (read once, at most the server's maxBodySize; kept for forwarding). */
  body(): Promise<unknown>;
  /** This request's id (X-Request-Id), for the audit record. */
  requestId: string;
  /**
   * The body is read: lift the idle timeout while the work runs (an execution may be silent
   * for minutes, a file operation may wait behind one). It comes back when the answer is ready.
   */
  working(): void;
  /** The answer is a stream: the idle timeout comes back when the returned function is called. */
  streaming(): () => void;
}

export type Handler = (request: Request, call: Call) => Promise<Response>;

function validate<T extends v.GenericSchema>(schema: T, body: unknown, name?: string): v.InferOutput<T> {
  const result = v.safeParse(schema, body);
  if (!result.success) {
    const lines = formatIssues(result.issues);
    throw new HttpError(400, (name ? lines.map((line) => line.replace(/^\(root\)/, name)) : lines).join("\n"));
  }
  return result.output;
}

/**
 * The HTTP API as a fetch function (served by Bun.serve in serve.ts, tested in-process).
 * Every body is validated; every route but /health needs an API key.
 */
export function createServerApp(deps: ServerAppDeps): ServerApp {
  const { config, engine, sessions, slots, log } = deps;
  const maxBody = sizeToBytes(config.server.maxBodySize);
  const maxFile = sizeToBytes(config.server.maxFileSize);
  const idleSeconds = Math.ceil(config.server.idleTimeoutMs / 1000);
  const tenancy = deps.tenancy ?? inMemoryTenancy(deps.apiKeys ?? [], log, deps.now);
  const { quotas } = tenancy;
  const admission = createAdmission({
    keys: tenancy.keys,
    maxRequestsInFlight: config.server.maxRequestsInFlight,
    authFailureLimit: config.server.authFailureLimit,
    authFailureWindowMs: config.server.authFailureWindowMs,
    idleTimeoutMs: config.server.idleTimeoutMs,
    log,
    ...(deps.now ? { now: deps.now } : {}),
  });
  let closing = false;
  // Stream ids name their instance, so another instance can forward a resume to it.
  const streams =
    deps.streams ??
    createStreamBuffers(DEFAULT_STREAM_BUFFER_LIMITS, { now: () => performance.now(), newId: tenancy.newHeldId, later: (ms, run) => void setTimeout(run, ms).unref?.() });
  sessions.onRemoved((session) => void tenancy.forgetSession(session.owner, session.id));
  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_MS;
  const resumeMs = config.server.streamResumeMs;

  /** Takes an execution slot or answers 429. */
  const slot = () => {
    const waiting = slots.acquire();
    if (!waiting) throw new HttpError(429, "too many executions in progress", {}, { "retry-after": "1" });
    return waiting;
  };

  /**
   * An execution's turn: the caller's quotas (CPU day, a concurrency lease), then an execution
   * slot (or 429). The returned function ends it with the execution's CPU time.
   */
  const executionTurn = async (caller: Caller): Promise<(cpuTimeMs: number | null) => Promise<void>> => {
    const end = await quotas.execution(caller);
    let release: () => void;
    try {
      release = await slot();
    } catch (error) {
      await end(null);
      throw error;
    }
    return async (cpuTimeMs) => {
      release();
      await end(cpuTimeMs);
    };
  };

  /**
   * The caller's session of that id: another principal's session of the same id is never
   * reached. A session held by another instance throws ElsewhereError (the request is forwarded).
   */
  const sessionFor = async (
    caller: Caller,
    id: string | undefined,
    create: boolean,
    runtime?: RuntimeName,
    owner = caller.principal,
    image?: string,
  ): Promise<Session | undefined> => {
    if (id === undefined) return undefined;
    const here = sessions.get(owner, id);
    if (here) return here;
    if (!create) {
      await tenancy.locateSession(owner, id);
      throw new HttpError(404, `session "${id}" not found`);
    }
    await tenancy.claimSession(caller, id);
    const session = sessions.getOrCreate(owner, id, runtime, image);
    if (session) return session;
    await tenancy.forgetSession(owner, id);
    throw new HttpError(429, "too many sessions", {}, { "retry-after": "5" });
  };

  /** A store key's clamps: the server's narrowed by its policy (an admin key is held to the server's). */
  const clampsOf = (caller: Caller) => (caller.admin ? undefined : narrow(serverClamps(config), caller.policy));

  const prepareBody = async (call: Call) => {
    const body = validate(ExecuteBodySchema, await call.body());
    const clamps = clampsOf(call.caller);
    const effective: ExecutionRequest = applyServerPolicy(requestOfBody(body), { config, builtinImages: deps.builtinImages, ...(clamps ? { clamps } : {}) });
    return { effective, sessionId: body.sessionId };
  };

  const execute: Handler = async (request, call) => {
    const { effective, sessionId } = await prepareBody(call);
    const session = await sessionFor(call.caller, sessionId, true);
    call.working();
    const finish = await executionTurn(call.caller);
    let cpuTimeMs: number | null = null;
    try {
      // Output files stay bytes until written to the response, as base64, piece by piece.
      const context = { audit: { principal: call.principal, requestId: call.requestId, ...(sessionId ? { sessionId } : {}) }, signal: request.signal, fileEncoding: "bytes" as const };
      const result = session ? await sessions.use(session, (e) => e.execute(effective, context)) : await engine.execute(effective, context);
      cpuTimeMs = result.resourceUsage?.cpuTimeMs ?? null;
      return streamedJson(200, result);
    } finally {
      await finish(cpuTimeMs);
    }
  };

  const executeStream: Handler = async (request, call) => {
    const { effective, sessionId } = await prepareBody(call);
    const session = await sessionFor(call.caller, sessionId, true);
    const target = session?.engine ?? engine;
    const abort = new AbortController();
    const context = { audit: { principal: call.principal, requestId: call.requestId, ...(sessionId ? { sessionId } : {}) }, signal: abort.signal, fileEncoding: "bytes" as const };
    // A bad request throws here, before any event: it is a 400, not an event of a 200 stream.
    const events = target.executeStream(effective, context);
    call.working();
    const finish = await executionTurn(call.caller);
    let cpuTimeMs: number | null = null;
    const unhold = session ? sessions.hold(session) : () => {};
    // The program runs on while no one reads its stream, for streamResumeMs: a client that
    // resumes in time misses nothing; otherwise it is stopped.
    let unread: ReturnType<typeof setTimeout> | undefined;
    const feed = streams.open(
      call.principal,
      (attached) => {
        clearTimeout(unread);
        if (attached) return;
        if (resumeMs === 0) abort.abort();
        else unread = setTimeout(() => abort.abort(), resumeMs);
      },
      () => abort.abort(),
    );
    void (async () => {
      try {
        for await (const event of events) {
          if (event.type === "exit") cpuTimeMs = event.data.resourceUsage?.cpuTimeMs ?? null;
          feed.push(event);
        }
      } catch (error) {
        const message = error instanceof Isol8Error ? formatError(error) : "internal error";
        if (!(error instanceof Isol8Error)) log(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
        feed.push({ type: "error", data: message });
      } finally {
        clearTimeout(unread);
        unhold();
        streams.finish(feed);
        await finish(cpuTimeMs);
      }
    })();
    return eventStreamResponse(feed, 0, { heartbeatMs, done: call.streaming() })!;
  };

  /** The caller's stream of the path's id (404 for an unknown one, or another key's; ElsewhereError for another instance's). */
  const streamOf = async (call: Call) => {
    const id = decodePathSegment(call.params.streamId!, "stream id");
    const feed = streams.get(call.principal, id);
    if (feed) return feed;
    await tenancy.locateHeld(`stream "${id}"`, id);
    throw new HttpError(404, `stream "${id}" not found: it ended too long ago, or is not this key's`);
  };

  /** Stops a streamed execution at once (a client that left on purpose does not wait for the resume window). */
  const stopStream: Handler = async (_request, call) => {
    const feed = await streamOf(call);
    const running = !feed.finished;
    if (running) feed.stop();
    return json(200, { stopped: running });
  };

  /** Resumes a stream after a dropped connection: the events after Last-Event-ID, then the live ones. */
  const resumeStream: Handler = async (request, call) => {
    const header = request.headers.get("last-event-id")?.trim() ?? "0";
    if (!/^\d{1,15}$/.test(header)) throw new HttpError(400, "Last-Event-ID: expected an event id of this stream (1, 2, 3, ...)", { field: "last-event-id" });
    const afterId = Number(header);
    const feed = await streamOf(call);
    if (!feed.keeps(afterId)) throw new HttpError(404, `stream "${feed.id}": events after ${afterId} are no longer kept`);
    call.working();
    return eventStreamResponse(feed, afterId, { heartbeatMs, done: call.streaming() })!;
  };

  const putFile: Handler = async (request, call) => {
    const body = validate(PutFileBodySchema, await call.body());
    if (base64DecodedLength(body.content) > maxFile) throw new HttpError(413, `file over ${maxFile} bytes`);
    const session = (await sessionFor(call.caller, body.sessionId, false))!;
    call.working();
    await sessions.use(session, (e) => e.putFile(body.path, Buffer.from(body.content, "base64")));
    return json(200, { ok: true });
  };

  const getFile: Handler = async (_request, call) => {
    const query = validate(GetFileQuerySchema, Object.fromEntries(call.url.searchParams));
    const session = (await sessionFor(call.caller, query.sessionId, false))!;
    call.working();
    const content = await sessions.use(session, (e) => e.getFile(query.path));
    if (content.length > maxFile) throw new HttpError(413, `file over ${maxFile} bytes`);
    return json(200, { content: content.toString("base64") });
  };

  /** The caller's sessions on this instance; an admin key sees every key's (with their owners) with `?all=true`. */
  const listSessions: Handler = async (_request, call) => {
    const all = call.url.searchParams.get("all") === "true";
    if (all && !call.caller.admin) throw new HttpError(403, "listing every key's sessions needs an admin key", { code: "forbidden" });
    return json(200, {
      sessions: sessions.list(all ? undefined : call.principal).map((s) => ({
        id: s.id,
        ...(all ? { owner: s.owner } : {}),
        runtime: s.engine.sessionRuntime,
        containerId: s.engine.sessionContainerId,
        createdAt: new Date(s.createdAt).toISOString(),
        lastUsed: new Date(s.lastUsed).toISOString(),
        active: s.active,
      })),
    });
  };

  const createSession: Handler = async (request, call) => {
    const empty = request.body === null || request.headers.get("content-length") === "0";
    const body = validate(CreateSessionBodySchema, empty ? {} : await call.body());
    const id = body.id ?? randomUUID();
    const existed = sessions.get(call.principal, id) !== undefined;
    const session = (await sessionFor(call.caller, id, true, body.runtime))!;
    const created: CreatedSession = { id, runtime: session.engine.sessionRuntime ?? body.runtime ?? null, created: !existed };
    return json(existed ? 200 : 201, created);
  };

  const listRuntimes: Handler = async (_request, call) => {
    call.working();
    return json(200, { runtimes: deps.runtimes ? await deps.runtimes() : [] });
  };

  /** Deletes the caller's session; an admin key may name another key's with `?owner=key:<id>`. */
  const deleteSession: Handler = async (_request, call) => {
    const id = validate(SessionIdSchema, decodePathSegment(call.params.id!, "session id"), "session id");
    const owner = call.caller.admin ? (call.url.searchParams.get("owner") ?? call.principal) : call.principal;
    call.working();
    if (!(await sessions.delete(owner, id))) {
      await tenancy.locateSession(owner, id);
      throw new HttpError(404, `session "${id}" not found`);
    }
    return json(200, { deleted: id });
  };

  /** Removes the caller's idle sessions and this server's idle pooled containers (and images when asked). */
  const cleanup: Handler = async (request, call) => {
    const raw = request.headers.get("content-length") === "0" ? {} : await readJson(request, maxBody).catch(() => ({}));
    const body = validate(CleanupBodySchema, raw);
    call.working();
    const pruned = await sessions.prune({ all: true, owner: call.principal });
    const removed = await deps.cleanup(Boolean(body.images));
    return json(200, { ok: true, sessions: pruned.length, ...removed });
  };

  const health: Handler = async () => json(closing ? 503 : 200, { status: closing ? "shutting down" : "ok", version: deps.version });

  /** Ready to run an execution now (Docker, images, warm pool); 503 with the reason otherwise. */
  const ready: Handler = async () => {
    const readiness: Readiness = closing
      ? { ready: false, reason: "server: shutting down", checks: { server: { ok: false, detail: "shutting down" } } }
      : await (deps.ready?.() ?? Promise.resolve({ ready: true, checks: {} }));
    const { ready: isReady, ...rest } = readiness;
    return json(isReady ? 200 : 503, { status: isReady ? "ready" : "not ready", ...rest }, isReady ? {} : { "retry-after": "5" });
  };

  const metrics: Handler = async () => {
    if (!deps.metrics) throw new HttpError(404, "metrics are not served by this server");
    const { contentType, body } = await deps.metrics();
    return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
  };

  let openApiText: string | undefined;
  const openApi: Handler = async () => {
    openApiText ??= JSON.stringify(openApiDocument({ version: deps.version }));
    return new Response(openApiText, { headers: { "content-type": "application/json; charset=utf-8" } });
  };

  const playground: Handler = async (_request, call) => {
    if (!deps.playground || !config.server.playground) throw new HttpError(404, "the playground is off on this server");
    return playgroundResponse(deps.playground, call.params.asset ?? "index.html");
  };

  // The MCP streamable HTTP endpoint (src/server/mcp-route.ts): admitted like every route.
  const mcp = createMcpRoute({
    config,
    builtinImages: deps.builtinImages,
    sessions,
    sessionFor: async (caller, id, runtime, image) => (await sessionFor(caller, id, true, runtime, caller.principal, image))!,
    clampsOf,
    executionTurn,
    runtimes: () => deps.runtimes?.() ?? Promise.resolve([]),
    newSessionId: tenancy.newHeldId,
    locate: (id) => tenancy.locateHeld(`MCP session "${id}"`, id),
    version: deps.version,
    log,
  });

  const routes: (RouteSpec & { handler: Handler; metricsToken?: true })[] = [
    { method: "GET", path: "/", open: true, handler: playground },
    { method: "GET", path: "/playground/{asset}", open: true, handler: playground },
    { method: "GET", path: "/health", open: true, handler: health },
    { method: "GET", path: "/ready", open: true, handler: ready },
    { method: "GET", path: "/openapi.json", open: true, handler: openApi },
    { method: "GET", path: "/metrics", metricsToken: true, handler: metrics },
    { method: "POST", path: "/execute", handler: execute },
    { method: "POST", path: "/execute/stream", handler: executeStream },
    { method: "GET", path: "/execute/stream/{streamId}", handler: resumeStream },
    { method: "DELETE", path: "/execute/stream/{streamId}", handler: stopStream },
    { method: "POST", path: "/file", handler: putFile },
    { method: "GET", path: "/file", handler: getFile },
    { method: "GET", path: "/sessions", handler: listSessions },
    { method: "POST", path: "/sessions", handler: createSession },
    { method: "GET", path: "/runtimes", handler: listRuntimes },
    { method: "DELETE", path: "/session/{id}", handler: deleteSession },
    { method: "POST", path: "/cleanup", handler: cleanup },
    // code-interpreter contexts (src/server/context-routes.ts)
    ...createContextRoutes({
      config,
      builtinImages: deps.builtinImages,
      sessions,
      validate,
      readBody: (request) => readJson(request, maxBody),
      sessionFor: async (caller, id, create) => (await sessionFor(caller, id, create))!,
      clampsOf,
      executionTurn,
      heartbeatMs,
      log,
    }),
    ...keyRoutes({ tenancy }),
    { method: "POST", path: "/mcp", handler: mcp.handler },
    { method: "GET", path: "/mcp", handler: mcp.handler },
    { method: "DELETE", path: "/mcp", handler: mcp.handler },
  ];
  const routeSpecs: readonly RouteSpec[] = routes.map(({ method, path, open }) => ({ method, path, ...(open ? { open } : {}) }));
  const match = createRouter(routes);
  /** The metrics token, when one is set and presented; otherwise the key decides. */
  const presentsMetricsToken = createTokenCheck(config.server.metricsToken);

  /** Answers one request (everything but the request id, CORS and the observer). */
  const answer = async (request: Request, url: URL, context: Partial<RequestContext>, requestId: string, seen: { route: string | null; principal: string }) => {
    const peer = context.peer ?? null;
    const setIdleTimeout = context.setIdleTimeout ?? (() => {});
    let lifted = false;
    let streamed = false;
    let principal = "";
    const body = { read: false, value: undefined as unknown };
    try {
      const matched = match(request.method, url.pathname);
      if (!matched) throw new HttpError(404, `no route "${url.pathname}"`);
      if ("allow" in matched) {
        const cors = corsHeaders(request.headers.get("origin"), config.server.corsOrigins);
        if (cors && isPreflight(request)) return preflightResponse(cors, matched.allow);
        throw new HttpError(405, `"${url.pathname}" answers ${matched.allow.join(", ")}, not ${request.method}`, {}, { allow: matched.allow.join(", ") });
      }
      const route = matched.route;
      seen.route = route.path;
      let caller: Caller = { principal: "", admin: false, keyId: null, policy: {}, quotas: {} };
      if (route.metricsToken && presentsMetricsToken(request.headers.get("authorization"))) principal = "metrics";
      else if (!route.open) {
        caller = await admission.admit(request, peer, context.inFlight ?? 0);
        principal = caller.principal;
      }
      seen.principal = principal;
      if (principal) context.authenticated?.();
      if (caller.principal) await quotas.request(caller);
      if (!route.open && closing) throw new HttpError(503, "server shutting down", { retryable: true });
      const restore = () => {
        if (lifted) setIdleTimeout(idleSeconds);
        if (principal) admission.answered(peer);
      };
      const call: Call = {
        url,
        params: matched.params,
        principal,
        caller,
        async body() {
          if (!body.read) {
            body.value = await readJson(request, maxBody);
            body.read = true;
          }
          return body.value;
        },
        requestId,
        working() {
          if (!lifted) setIdleTimeout(0);
          lifted = true;
        },
        streaming() {
          streamed = true;
          return restore;
        },
      };
      try {
        return await route.handler(request, call);
      } finally {
        if (!streamed) restore();
      }
    } catch (error) {
      if (error instanceof ElsewhereError) {
        // The holder answers as slowly as its work takes (a silent execution, a quiet MCP
        // stream): this connection waits without an idle timeout until that answer ends.
        setIdleTimeout(0);
        const back = () => setIdleTimeout(idleSeconds);
        try {
          return onResponseEnd(await forwardRequest(request, error, tenancy.instance.id, body), back);
        } catch (refused) {
          back();
          return failureResponse(refused, log);
        }
      }
      const response = failureResponse(error, log);
      // A refusal before admission, or before the body was read, ends the connection: the body
      // is never read, and a client without a key holds no connection beyond its answer.
      if (!principal || (request.body !== null && !request.bodyUsed)) {
        for (const [name, value] of Object.entries(CLOSE)) response.headers.set(name, value);
      }
      return response;
    }
  };

  return {
    routes: routeSpecs,
    close() {
      closing = true;
      void mcp.close();
    },
    async fetch(request, context = {}) {
      const started = performance.now();
      const url = new URL(request.url);
      const requestId = acceptedRequestId(request.headers.get("x-request-id")) ?? deps.newRequestId?.() ?? randomUUID();
      const seen = { route: null as string | null, principal: "" };
      const response = await answer(request, url, context, requestId, seen);
      response.headers.set("x-request-id", requestId);
      // Which instance answered (a forwarded answer already names the one that held the session).
      if (!response.headers.has(INSTANCE_HEADER)) response.headers.set(INSTANCE_HEADER, tenancy.instance.id);
      const cors = corsHeaders(request.headers.get("origin"), config.server.corsOrigins);
      if (cors) for (const [name, value] of Object.entries(cors)) response.headers.set(name, value);
      deps.observe?.({
        requestId,
        method: request.method,
        route: seen.route,
        path: url.pathname,
        status: response.status,
        durationMs: performance.now() - started,
        principal: seen.principal || null,
        client: context.peer?.address ?? null,
      });
      return response;
    },
  };
}
