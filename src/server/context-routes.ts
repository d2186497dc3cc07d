// HTTP routes of code-interpreter contexts, under a session:
//   POST   /sessions/{id}/contexts                      { runtime?, image? } -> 201 { context }
//   GET    /sessions/{id}/contexts                      -> { contexts }
//   DELETE /sessions/{id}/contexts/{cid}                -> { deleted }
//   POST   /sessions/{id}/contexts/{cid}/restart        -> { context }
//   POST   /sessions/{id}/contexts/{cid}/run            { code, timeoutMs? } -> CellResult
//   POST   /sessions/{id}/contexts/{cid}/run/stream     { code, timeoutMs? } -> SSE of CellEvent
//   POST   /sessions/{id}/cancel                        { executionId } -> { cancelled }
// A session is created by its first context (as by its first execution); a client that leaves
// a streamed cell cancels it.
import type { Isol8Config } from "../config/schema";
import { CancelBodySchema, type CellEvent, CreateContextRequestSchema, RunCellRequestSchema } from "../protocol/context";
import { encodeCellEvent, SSE_HEARTBEAT } from "../protocol/sse";
import { formatError, Isol8Error } from "../errors";
import { decodePathSegment, HttpError, json } from "./http";
import type { Session, SessionManager } from "./sessions";
import type { Caller } from "./key-service";
import { applyServerPolicy, type Clamps, serverMaxima } from "./policy";
import { SessionIdSchema } from "../protocol/http";
import * as v from "valibot";

/** What the context routes need of the app (app.ts passes them in). */
export interface ContextRouteDeps {
  config: Isol8Config;
  builtinImages: readonly string[];
  sessions: SessionManager;
  /** Validates a body (a 400 naming the field when it does not fit). */
  validate<T extends v.GenericSchema>(schema: T, body: unknown, name?: string): v.InferOutput<T>;
  readBody(request: Request): Promise<unknown>;
  /** The caller's session of that id (created when `create`); 404 when it has none. */
  sessionFor(caller: Caller, id: string, create: boolean): Promise<Session>;
  /** The caller's clamps when its key narrows the server's (undefined: the server's own). */
  clampsOf(caller: Caller): Clamps | undefined;
  /** A cell's turn: the caller's quotas (CPU day, concurrency), then an execution slot (or 429); the returned function ends it. */
  executionTurn(caller: Caller): Promise<(cpuTimeMs: number | null) => Promise<void>>;
  heartbeatMs: number;
  log(line: string): void;
}

export interface RouteCall {
  params: Record<string, string>;
  principal: string;
  /** Who the key is (its policy and quotas). */
  caller: Caller;
  working(): void;
  streaming(): () => void;
}

export interface ContextRoute {
  method: string;
  /** A path template (routes.ts): `{name}` is one path segment. */
  path: string;
  handler: (request: Request, call: RouteCall) => Promise<Response>;
}

const ContextIdSchema = v.pipe(v.string(), v.regex(/^[0-9a-f-]{36}$/, "must be a context id"));

export function createContextRoutes(deps: ContextRouteDeps): ContextRoute[] {
  const { sessions, validate } = deps;
  const sessionId = (call: RouteCall) => validate(SessionIdSchema, decodePathSegment(call.params.id!, "session id"), "session id");
  const contextOf = async (session: Session, call: RouteCall) => {
    const id = validate(ContextIdSchema, decodePathSegment(call.params.cid!, "context id"), "context id");
    if (!(await session.engine.listContexts()).some((c) => c.id === id)) throw new HttpError(404, `context "${id}" not found`);
    return session.engine.getContext(id);
  };
  const cellBody = async (request: Request, caller: Caller) => {
    const body = validate(RunCellRequestSchema, await deps.readBody(request));
    const clamps = deps.clampsOf(caller);
    const max = clamps?.limits.timeoutMs ?? serverMaxima(deps.config).timeoutMs;
    if (body.timeoutMs !== undefined && body.timeoutMs > max) {
      const whose = clamps ? "this key's" : "this server's";
      throw new HttpError(403, `timeoutMs: ${body.timeoutMs} is over ${whose} limit of ${max}`, { code: "policy-denied", field: "timeoutMs" });
    }
    return body;
  };

  const create: ContextRoute["handler"] = async (request, call) => {
    const body = validate(CreateContextRequestSchema, await deps.readBody(request));
    if (body.image !== undefined) {
      // the same image rules as an execution's
      const clamps = deps.clampsOf(call.caller);
      applyServerPolicy({ code: "", runtime: body.runtime === "bash" ? "python" : (body.runtime ?? "python"), image: body.image }, { ...deps, ...(clamps ? { clamps } : {}) });
    }
    const session = await deps.sessionFor(call.caller, sessionId(call), true);
    const max = deps.config.server.maxContextsPerSession;
    if ((await session.engine.listContexts()).length >= max) {
      throw new HttpError(429, `too many contexts in this session (server.maxContextsPerSession is ${max})`, { code: "too-many-requests" });
    }
    call.working();
    const context = await sessions.use(session, (engine) => engine.createContext(body));
    return json(201, { context: await context.info() });
  };

  const list: ContextRoute["handler"] = async (_request, call) => {
    const session = await deps.sessionFor(call.caller, sessionId(call), false);
    return json(200, { contexts: await session.engine.listContexts() });
  };

  const remove: ContextRoute["handler"] = async (_request, call) => {
    const session = await deps.sessionFor(call.caller, sessionId(call), false);
    const context = await contextOf(session, call);
    call.working();
    await sessions.use(session, () => context.close());
    return json(200, { deleted: context.id });
  };

  const restart: ContextRoute["handler"] = async (_request, call) => {
    const session = await deps.sessionFor(call.caller, sessionId(call), false);
    const context = await contextOf(session, call);
    call.working();
    await sessions.use(session, () => context.restart());
    return json(200, { context: await context.info() });
  };

  const run: ContextRoute["handler"] = async (request, call) => {
    const session = await deps.sessionFor(call.caller, sessionId(call), false);
    const context = await contextOf(session, call);
    const body = await cellBody(request, call.caller);
    call.working();
    const finish = await deps.executionTurn(call.caller);
    try {
      const audit = { principal: call.principal, sessionId: session.id };
      const result = await sessions.use(session, () =>
        context.run(body.code, { ...(body.timeoutMs ? { timeoutMs: body.timeoutMs } : {}), signal: request.signal, audit }),
      );
      return json(200, result);
    } finally {
      await finish(null);
    }
  };

  const runStream: ContextRoute["handler"] = async (request, call) => {
    const session = await deps.sessionFor(call.caller, sessionId(call), false);
    const context = await contextOf(session, call);
    const body = await cellBody(request, call.caller);
    call.working();
    const finish = await deps.executionTurn(call.caller);
    const done = call.streaming();
    const unhold = sessions.hold(session);
    const abort = new AbortController();
    const encoder = new TextEncoder();
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        const write = (event: CellEvent | null) => {
          if (cancelled) return;
          try {
            controller.enqueue(encoder.encode(event ? encodeCellEvent(event) : SSE_HEARTBEAT));
          } catch {
            cancelled = true;
            abort.abort();
          }
        };
        heartbeat = setInterval(() => write(null), deps.heartbeatMs);
        try {
          const result = await context.run(body.code, {
            ...(body.timeoutMs ? { timeoutMs: body.timeoutMs } : {}),
            signal: abort.signal,
            audit: { principal: call.principal, sessionId: session.id },
            onStart: (executionId) => write({ type: "start", data: { executionId } }),
            onStdout: (data) => write({ type: "stdout", data }),
            onStderr: (data) => write({ type: "stderr", data }),
            onResult: (data) => write({ type: "result", data }),
          });
          write({ type: "done", data: result });
        } catch (error) {
          if (!(error instanceof Isol8Error)) deps.log(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
          write({ type: "error", data: error instanceof Isol8Error ? formatError(error) : "internal error" });
        } finally {
          clearInterval(heartbeat);
          unhold();
          await finish(null);
          done();
          if (!cancelled) controller.close();
        }
      },
      cancel() {
        // the client went away: interrupt the cell
        cancelled = true;
        clearInterval(heartbeat);
        abort.abort();
      },
    });
    return new Response(stream, {
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" },
    });
  };

  const cancel: ContextRoute["handler"] = async (request, call) => {
    const session = await deps.sessionFor(call.caller, sessionId(call), false);
    const body = validate(CancelBodySchema, await deps.readBody(request));
    return json(200, { cancelled: await session.engine.cancel(body.executionId) });
  };

  const context = "/sessions/{id}/contexts/{cid}";
  return [
    { method: "POST", path: "/sessions/{id}/contexts", handler: create },
    { method: "GET", path: "/sessions/{id}/contexts", handler: list },
    { method: "DELETE", path: context, handler: remove },
    { method: "POST", path: `${context}/restart`, handler: restart },
    { method: "POST", path: `${context}/run`, handler: run },
    { method: "POST", path: `${context}/run/stream`, handler: runStream },
    { method: "POST", path: "/sessions/{id}/cancel", handler: cancel },
  ];
}
