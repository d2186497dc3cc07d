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
import { eventStream, streamedJson } from "./json-response";
import type { Slots } from "../lib/slots";
import { applyServerPolicy } from "./policy";
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
import { randomUUID } from "node:crypto";
import type { RuntimeInfo } from "../protocol/runtime-info";
import type { RuntimeName } from "../runtimes/registry";
import type { Session, SessionManager } from "./sessions";
import type { Isol8 } from "../protocol/isol8";

export interface ServerAppDeps {
  config: Isol8Config;
  /** The accepted API keys: each one is a principal, owning the sessions it creates. */
  apiKeys: readonly string[];
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
}

/** What the HTTP server knows of a request beyond the request (Bun.serve in serve.ts; absent in-process). */
export interface RequestContext {
  /** The peer of the request's connection; null for a Unix socket or an in-process call. */
  peer: Peer | null;
  /** Sets this request's idle timeout in seconds (0: none). */
  setIdleTimeout(seconds: number): void;
  /** Requests in progress on the server, this one included. */
  inFlight: number;
}

export interface ServerApp {
  fetch(request: Request, context?: Partial<RequestContext>): Promise<Response>;
  /** Stop taking new work (503); in-flight requests continue. */
  close(): void;
}

/** A comment frame this often keeps proxies from closing a silent event stream, and finds clients that left. */
const HEARTBEAT_MS = 15_000;

/** One admitted request as its handler sees it. */
interface Call {
  url: URL;
  params: Record<string, string>;
  /** The principal of the key the request came with: it owns the sessions it names. */
  principal: string;
  /**
   * The body is read: lift the idle timeout while the work runs (an execution may be silent
   * for minutes, a file operation may wait behind one). It comes back when the answer is ready.
   */
  working(): void;
  /** The answer is a stream: the idle timeout comes back when the returned function is called. */
  streaming(): () => void;
}

type Handler = (request: Request, call: Call) => Promise<Response>;

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
  const admission = createAdmission({
    apiKeys: deps.apiKeys,
    maxRequestsInFlight: config.server.maxRequestsInFlight,
    authFailureLimit: config.server.authFailureLimit,
    authFailureWindowMs: config.server.authFailureWindowMs,
    idleTimeoutMs: config.server.idleTimeoutMs,
    log,
    ...(deps.now ? { now: deps.now } : {}),
  });
  let closing = false;

  /** Takes an execution slot or answers 429. */
  const slot = () => {
    const waiting = slots.acquire();
    if (!waiting) throw new HttpError(429, "too many executions in progress", {}, { "retry-after": "1" });
    return waiting;
  };

  /** The caller's session of that id: another principal's session of the same id is never reached. */
  const sessionFor = (principal: string, id: string | undefined, create: boolean, runtime?: RuntimeName): Session | undefined => {
    if (id === undefined) return undefined;
    const session = create ? sessions.getOrCreate(principal, id, runtime) : sessions.get(principal, id);
    if (session === null) throw new HttpError(429, "too many sessions", {}, { "retry-after": "5" });
    if (!session) throw new HttpError(404, `session "${id}" not found`);
    return session;
  };

  const prepareBody = async (request: Request) => {
    const body = validate(ExecuteBodySchema, await readJson(request, maxBody));
    const effective: ExecutionRequest = applyServerPolicy(requestOfBody(body), { config, builtinImages: deps.builtinImages });
    return { effective, sessionId: body.sessionId };
  };

  const execute: Handler = async (request, call) => {
    const { effective, sessionId } = await prepareBody(request);
    const session = sessionFor(call.principal, sessionId, true);
    call.working();
    const release = await slot();
    try {
      // Output files stay bytes until written to the response, as base64, piece by piece.
      const context = { audit: { principal: call.principal, ...(sessionId ? { sessionId } : {}) }, signal: request.signal, fileEncoding: "bytes" as const };
      const result = session
        ? await sessions.use(session, (e) => e.execute(effective, context))
        : await engine.execute(effective, context);
      return streamedJson(200, result);
    } finally {
      release();
    }
  };

  const executeStream: Handler = async (request, call) => {
    const { effective, sessionId } = await prepareBody(request);
    const session = sessionFor(call.principal, sessionId, true);
    const target = session?.engine ?? engine;
    const abort = new AbortController();
    const context = { audit: { principal: call.principal, ...(sessionId ? { sessionId } : {}) }, signal: abort.signal, fileEncoding: "bytes" as const };
    // A bad request throws here, before any event: it is a 400, not an event of a 200 stream.
    const events = target.executeStream(effective, context);
    call.working();
    const release = await slot();
    const done = call.streaming();
    const unhold = session ? sessions.hold(session) : () => {};
    const stream = eventStream(events, {
      onEnd() {
        unhold();
        release();
      },
      onClose: done,
      heartbeatMs: deps.heartbeatMs ?? HEARTBEAT_MS,
      errorEvent(error) {
        if (!(error instanceof Isol8Error)) log(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
        return { type: "error", data: error instanceof Isol8Error ? formatError(error) : "internal error" };
      },
      onCancel: () => abort.abort(), // the client went away: stop the program
    });
    return new Response(stream, {
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" },
    });
  };

  const putFile: Handler = async (request, call) => {
    const body = validate(PutFileBodySchema, await readJson(request, maxBody));
    if (base64DecodedLength(body.content) > maxFile) throw new HttpError(413, `file over ${maxFile} bytes`);
    const session = sessionFor(call.principal, body.sessionId, false)!;
    call.working();
    await sessions.use(session, (e) => e.putFile(body.path, Buffer.from(body.content, "base64")));
    return json(200, { ok: true });
  };

  const getFile: Handler = async (_request, call) => {
    const query = validate(GetFileQuerySchema, Object.fromEntries(call.url.searchParams));
    const session = sessionFor(call.principal, query.sessionId, false)!;
    call.working();
    const content = await sessions.use(session, (e) => e.getFile(query.path));
    if (content.length > maxFile) throw new HttpError(413, `file over ${maxFile} bytes`);
    return json(200, { content: content.toString("base64") });
  };

  const listSessions: Handler = async (_request, call) =>
    json(200, {
      sessions: sessions.list(call.principal).map((s) => ({
        id: s.id,
        runtime: s.engine.sessionRuntime,
        containerId: s.engine.sessionContainerId,
        createdAt: new Date(s.createdAt).toISOString(),
        lastUsed: new Date(s.lastUsed).toISOString(),
        active: s.active,
      })),
    });

  const createSession: Handler = async (request, call) => {
    const empty = request.body === null || request.headers.get("content-length") === "0";
    const body = validate(CreateSessionBodySchema, empty ? {} : await readJson(request, maxBody));
    const id = body.id ?? randomUUID();
    const existed = sessions.get(call.principal, id) !== undefined;
    const session = sessionFor(call.principal, id, true, body.runtime)!;
    const created: CreatedSession = { id, runtime: session.engine.sessionRuntime ?? body.runtime ?? null, created: !existed };
    return json(existed ? 200 : 201, created);
  };

  const listRuntimes: Handler = async (_request, call) => {
    call.working();
    return json(200, { runtimes: deps.runtimes ? await deps.runtimes() : [] });
  };

  const deleteSession: Handler = async (_request, call) => {
    const id = validate(SessionIdSchema, decodePathSegment(call.params.id!, "session id"), "session id");
    call.working();
    if (!(await sessions.delete(call.principal, id))) throw new HttpError(404, `session "${id}" not found`);
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

  const routes: { method: string; pattern: RegExp; handler: Handler; open?: boolean }[] = [
    { method: "GET", pattern: /^\/health$/, open: true, handler: health },
    { method: "POST", pattern: /^\/execute$/, handler: execute },
    { method: "POST", pattern: /^\/execute\/stream$/, handler: executeStream },
    { method: "POST", pattern: /^\/file$/, handler: putFile },
    { method: "GET", pattern: /^\/file$/, handler: getFile },
    { method: "GET", pattern: /^\/sessions$/, handler: listSessions },
    { method: "POST", pattern: /^\/sessions$/, handler: createSession },
    { method: "GET", pattern: /^\/runtimes$/, handler: listRuntimes },
    { method: "DELETE", pattern: /^\/session\/(?<id>[^/]+)$/, handler: deleteSession },
    { method: "POST", pattern: /^\/cleanup$/, handler: cleanup },
  ];

  return {
    close() {
      closing = true;
    },
    async fetch(request, context = {}) {
      const peer = context.peer ?? null;
      const setIdleTimeout = context.setIdleTimeout ?? (() => {});
      const url = new URL(request.url);
      let lifted = false;
      let streamed = false;
      let principal = "";
      try {
        const route = routes.find((r) => r.method === request.method && r.pattern.test(url.pathname));
        if (!route) throw new HttpError(404, "not found");
        if (!route.open) principal = admission.admit(request, peer, context.inFlight ?? 0);
        if (!route.open && closing) throw new HttpError(503, "server shutting down", { retryable: true });
        const restore = () => {
          if (lifted) setIdleTimeout(idleSeconds);
          if (principal) admission.answered(peer);
        };
        const call: Call = {
          url,
          params: route.pattern.exec(url.pathname)?.groups ?? {},
          principal,
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
        const response = failureResponse(error, log);
        // A refusal before admission, or before the body was read, ends the connection: the body
        // is never read, and a client without a key holds no connection beyond its answer.
        if (!principal || (request.body !== null && !request.bodyUsed)) {
          for (const [name, value] of Object.entries(CLOSE)) response.headers.set(name, value);
        }
        return response;
      }
    },
  };
}
