// The MCP streamable HTTP endpoint's sessions (`/mcp` on `isol8 serve`): one SDK transport and
// MCP server per session, owned by the principal that initialized it (another key's request
// for it is answered as for an unknown session). A session ends on DELETE, or keepAliveMs after
// its last request or stream ended (a client that went away without DELETE); its backend then
// removes its sandboxes.
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { onResponseEnd } from "../lib/response-end";
import type { McpBackend } from "./backend";
import { createMcpServer } from "./mcp-server";

export interface McpHttpOptions {
  /** The backend of a new MCP session of this principal. */
  createBackend(principal: string, sessionId: string): McpBackend;
  /** A new session's id: with several instances it names the one holding the session. */
  newSessionId(): string;
  version: string;
  keepAliveMs: number;
  /** MCP sessions at once (every principal's); an initialize beyond it gets 429. */
  maxSessions: number;
  log(line: string): void;
}

export interface McpHttp {
  /** Answers one request of an admitted principal; `body` is the parsed JSON of a POST. */
  handle(request: Request, principal: string, body: unknown): Promise<Response>;
  /** Ends every session (server shutdown). */
  close(): Promise<void>;
  /** Whether this session id is open here (whoever's it is). */
  holds(id: string): boolean;
  /** Open sessions. */
  readonly size: number;
}

interface Entry {
  id: string;
  principal: string;
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  backend: McpBackend;
  /** Requests and streams in progress: the keep-alive runs only at zero. */
  active: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  ended: Promise<void> | null;
}

/** A JSON-RPC error answer (what MCP clients read), with an HTTP status. */
function rpcError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function createMcpHttp(options: McpHttpOptions): McpHttp {
  const sessions = new Map<string, Entry>();
  let closing = false;

  const end = (entry: Entry): Promise<void> => {
    entry.ended ??= (async () => {
      clearTimeout(entry.timer);
      sessions.delete(entry.id);
      await entry.server.close().catch(() => {});
      await entry.backend.close().catch((error) => options.log(`cannot remove the sandboxes of MCP session ${entry.id}: ${(error as Error).message}`));
    })();
    return entry.ended;
  };

  const release = (entry: Entry) => {
    entry.active--;
    if (entry.active > 0 || entry.ended) return;
    entry.timer = setTimeout(() => void end(entry), options.keepAliveMs);
    entry.timer.unref?.();
  };

  const open = async (principal: string): Promise<Entry> => {
    const id = options.newSessionId();
    const backend = options.createBackend(principal, id);
    const server = createMcpServer({ backend, version: options.version, mask: true, log: options.log });
    const entry: Entry = { id, principal, server, backend, active: 0, timer: undefined, ended: null } as Entry;
    entry.transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: () => void sessions.set(id, entry),
      // DELETE: answered once the sandboxes are gone.
      onsessionclosed: () => end(entry),
    });
    server.onclose = () => void end(entry);
    await server.connect(entry.transport);
    return entry;
  };

  return {
    get size() {
      return sessions.size;
    },
    holds: (id) => sessions.has(id),
    async handle(request, principal, body) {
      if (closing) return rpcError(503, "server shutting down", { "retry-after": "5" });
      const id = request.headers.get("mcp-session-id");
      let entry: Entry | undefined;
      if (id !== null) {
        entry = sessions.get(id);
        // Another principal's session is answered exactly like an unknown one.
        if (!entry || entry.principal !== principal || entry.ended) return rpcError(404, "Session not found");
      } else {
        if (request.method !== "POST" || !isInitializeRequest(body)) {
          return rpcError(400, "Bad Request: no Mcp-Session-Id header: start a session with an initialize request");
        }
        if (sessions.size >= options.maxSessions) return rpcError(429, "too many MCP sessions", { "retry-after": "5" });
        entry = await open(principal);
      }
      entry.active++;
      clearTimeout(entry.timer);
      let response: Response;
      try {
        response = await entry.transport.handleRequest(request, body === undefined ? {} : { parsedBody: body });
      } catch (error) {
        release(entry);
        throw error;
      }
      // An initialize the transport refused leaves no session behind.
      if (id === null && !sessions.has(entry.id)) void end(entry);
      const held = entry;
      return onResponseEnd(response, () => release(held));
    },
    async close() {
      closing = true;
      await Promise.allSettled([...sessions.values()].map(end));
    },
  };
}
