// `/mcp`: the MCP streamable HTTP endpoint (POST messages, GET the server's stream, DELETE the
// session). Admission is the app's (the key's principal, like every route); each MCP session's
// sandboxes are the principal's server sessions (`mcp-<id>-<runtime>`, one per runtime used),
// under the same policy, execution slots and session cap as the HTTP API, on the images
// server.mcp.images names (the operator's choice: not a client option). With several instances
// an MCP session's id names the instance holding it (newSessionId), and a request for it that
// arrives elsewhere is forwarded there like a session's (locate throws ElsewhereError).
import type { Isol8Config } from "../config/schema";
import type { McpBackend } from "../mcp/backend";
import { createMcpHttp, type McpHttp } from "../mcp/http-sessions";
import type { RuntimeInfo } from "../protocol/runtime-info";
import { sizeToBytes } from "../protocol/sizes";
import type { RuntimeName } from "../runtimes/registry";
import { onResponseEnd } from "../lib/response-end";
import type { Caller } from "./key-service";
import { applyServerPolicy, type Clamps, policyOffers } from "./policy";
import type { Session, SessionManager } from "./sessions";

export interface McpRouteDeps {
  config: Isol8Config;
  builtinImages: readonly string[];
  sessions: SessionManager;
  /** The caller's session of that id, created on first use under its key's session quota (the app's sessionFor). */
  sessionFor(caller: Caller, id: string, runtime: RuntimeName, image?: string): Promise<Session>;
  /** The caller's clamps when its key narrows the server's (undefined: the server's own). */
  clampsOf(caller: Caller): Clamps | undefined;
  /** An execution's turn: the caller's quotas (concurrency, CPU day), then a slot (or the 429 to answer); the returned function ends it. */
  executionTurn(caller: Caller): Promise<(cpuTimeMs: number | null) => Promise<void>>;
  runtimes(): Promise<RuntimeInfo[]>;
  /** A new MCP session's id, naming this instance. */
  newSessionId(): string;
  /** Throws ElsewhereError when the MCP session id names another live instance. */
  locate(sessionId: string): Promise<void>;
  version: string;
  log(line: string): void;
}

export interface McpRouteCall {
  principal: string;
  /** Who the key is: its policy and quotas hold for the MCP session's tool calls. */
  caller: Caller;
  /** The JSON body (read once; kept for a forwarded request). */
  body(): Promise<unknown>;
  working(): void;
  streaming(): () => void;
}

/** The server sessions of one MCP session: one per runtime it uses, removed when it ends. */
function sessionBackend(deps: McpRouteDeps, principal: string, mcpSessionId: string, callerOf: () => Caller): McpBackend {
  const { config, sessions } = deps;
  const used = new Set<RuntimeName>();
  const idOf = (runtime: RuntimeName) => `mcp-${mcpSessionId}-${runtime}`;
  return {
    async use(runtime, work) {
      const session = await deps.sessionFor(callerOf(), idOf(runtime), runtime, config.server.mcp.images[runtime]);
      used.add(runtime);
      return sessions.use(session, (engine) => work(engine, { principal, sessionId: session.id }));
    },
    admit: (request) => {
      const clamps = deps.clampsOf(callerOf());
      return applyServerPolicy(request, { config, builtinImages: deps.builtinImages, ...(clamps ? { clamps } : {}) });
    },
    async slot() {
      const finish = await deps.executionTurn(callerOf());
      return () => void finish(null);
    },
    runtimes: deps.runtimes,
    offered: policyOffers(config),
    maxFileBytes: sizeToBytes(config.server.maxFileSize),
    async close() {
      await Promise.allSettled([...used].map((runtime) => sessions.delete(principal, idOf(runtime))));
    },
  };
}

export interface McpRoute {
  handler(request: Request, call: McpRouteCall): Promise<Response>;
  close(): Promise<void>;
  readonly mcp: McpHttp;
}

export function createMcpRoute(deps: McpRouteDeps): McpRoute {
  // The latest caller of each principal (one key: the same policy and quotas every request).
  const callers = new Map<string, Caller>();
  const mcp = createMcpHttp({
    createBackend: (principal, id) => sessionBackend(deps, principal, id, () => callers.get(principal)!),
    newSessionId: deps.newSessionId,
    version: deps.version,
    keepAliveMs: deps.config.server.mcp.keepAliveMs,
    maxSessions: deps.config.server.maxSessions,
    log: deps.log,
  });
  return {
    mcp,
    close: () => mcp.close(),
    async handler(request, call) {
      // Another instance's session: forwarded there before anything is read here.
      const sessionId = request.headers.get("mcp-session-id");
      if (sessionId !== null && !mcp.holds(sessionId)) await deps.locate(sessionId);
      const body = request.method === "POST" ? await call.body() : undefined;
      callers.set(call.principal, call.caller);
      // A tool call may be silent for minutes and the server's stream stays open: no idle timeout
      // until the answer is over.
      call.working();
      const done = call.streaming();
      try {
        return onResponseEnd(await mcp.handle(request, call.principal, body), done);
      } catch (error) {
        done();
        throw error;
      }
    },
  };
}
