// RemoteIsol8: the Isol8 interface over isol8's HTTP API. Publishable on its own:
// plain fetch and web streams, no Bun-only APIs, nothing of the engine at run time.
import type { ExecutionRequest } from "../protocol/execution";
import type { ExecutionResult, ExecutionSummary, FileContent, FileEncoding, StreamEvent } from "../protocol/execution";
import { Isol8Error } from "../errors";
import { type ErrorCode, type ErrorDetail, isol8ErrorOfBody, parseErrorBody } from "../protocol/errors";
import type { ExecuteOptions, Isol8 } from "../protocol/isol8";
import { parseSse } from "../protocol/sse";
import type { CreatedSession } from "../protocol/http";
import type { RuntimeName } from "../runtimes/registry";
import type { RuntimeInfo } from "../protocol/runtime-info";
import { type RemoteEngineDefaults, remoteRequestDefaults, withRequestDefaults } from "./request-defaults";

/** The header naming a request's session, for load-balancer affinity (docs/scale-out.md). */
export const SESSION_HEADER = "x-isol8-session";

/** A dropped event stream is resumed (Last-Event-ID) this many times at most. */
const MAX_RESUMES = 3;
import type { ContextInfo, CreateContextRequest, Isol8Contexts } from "../protocol/context";
import { RemoteContext } from "./remote-context";

export interface RemoteIsol8Options {
  /** Base URL of an `isol8 serve` instance, e.g. `http://127.0.0.1:3000`. */
  host: string;
  /** API key (default: ISOL8_API_KEY). */
  apiKey?: string;
  /** Run every request in this session (a persistent container on the server). */
  sessionId?: string;
  fetch?: typeof fetch;
}

/**
 * An HTTP failure of the isol8 server that no library error class stands for (auth, routing,
 * limits, overload, policy): one line with the status, the body's `code` when it had one, and
 * the whole error body (`body`: its `field` names the refused option of a policy-denied).
 */
export class RemoteError extends Isol8Error {
  override name = "RemoteError";
  constructor(
    readonly status: number,
    message: string,
    hint?: string,
    readonly code?: ErrorCode,
    /** The server's Retry-After, in seconds (429 and 503 answers). */
    readonly retryAfterSeconds?: number,
    /** The server's error body (`{ code, message, field?, ... }`), when it sent one. */
    readonly body?: ErrorDetail,
  ) {
    super(message, hint);
  }
}

type WireBytes = string | { base64: string };
type WireRequest = Omit<ExecutionRequest, "files" | "stdin"> & { files?: Record<string, WireBytes>; stdin?: WireBytes };

/** Bytes as JSON carries them: `{ base64 }`. */
const wireBytes = (content: string | Uint8Array | { base64: string }): WireBytes =>
  content instanceof Uint8Array ? { base64: Buffer.from(content).toString("base64") } : content;

function toWire(request: ExecutionRequest): WireRequest {
  const { files, stdin, ...rest } = request;
  return {
    ...rest,
    ...(files ? { files: Object.fromEntries(Object.entries(files).map(([path, content]) => [path, wireBytes(content)])) } : {}),
    ...(stdin !== undefined ? { stdin: wireBytes(stdin) } : {}),
  };
}

/** Runs code on a remote isol8 server (the Isol8 interface over HTTP). */
export class RemoteIsol8 implements Isol8, Isol8Contexts {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly key: string | undefined;
  private readonly defaults: Partial<ExecutionRequest>;

  /**
   * `engine`: defaults sent with every request (limits, network, image, security, secrets,
   * logNetwork, networkFilter → allow/deny); a request's own fields win. Anything that cannot
   * travel with a request is refused here.
   */
  constructor(
    private readonly options: RemoteIsol8Options,
    engine: RemoteEngineDefaults = {},
  ) {
    this.base = options.host.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? fetch;
    this.key = options.apiKey ?? process.env.ISOL8_API_KEY;
    this.defaults = remoteRequestDefaults(engine as Record<string, unknown>);
  }

  /** Checks the server answers /health; with a sessionId, creates that session (kept when it exists). */
  async start(): Promise<void> {
    const response = await this.call("reach the server", "GET", "/health", undefined, false);
    const body = (await response.json()) as { status?: string };
    if (body.status !== "ok") throw new RemoteError(response.status, `Cannot use the server at "${this.base}": it reports "${body.status}"`);
    if (this.options.sessionId) await this.createSession({ id: this.options.sessionId });
  }

  /** Creates a session on the server (`POST /sessions`): a new random id unless one is given. */
  async createSession(options: { id?: string; runtime?: RuntimeName } = {}): Promise<CreatedSession> {
    const response = await this.call("create the session", "POST", "/sessions", options);
    return (await response.json()) as CreatedSession;
  }

  /** Deletes this client's session, if it has one. */
  async stop(): Promise<void> {
    if (!this.options.sessionId) return;
    try {
      await this.call("delete the session", "DELETE", `/session/${encodeURIComponent(this.options.sessionId)}`);
    } catch (error) {
      if (!(error instanceof RemoteError && error.status === 404)) throw error;
    }
  }

  async execute<E extends FileEncoding = "base64">(request: ExecutionRequest, options: ExecuteOptions<E> = {}): Promise<ExecutionResult<FileContent<E>>> {
    const response = await this.call("execute", "POST", "/execute", this.body(request), true, options.signal);
    return decodeFiles((await response.json()) as ExecutionResult, options.fileEncoding);
  }

  /**
   * Streams events over Server-Sent Events; breaking out of the loop stops the program. A
   * connection that drops mid-stream is resumed from the last event received (each event is
   * yielded exactly once) while the server still keeps the stream. Leaving early (break, abort)
   * asks the server to stop the program at once.
   */
  async *executeStream<E extends FileEncoding = "base64">(request: ExecutionRequest, options: ExecuteOptions<E> = {}): AsyncGenerator<StreamEvent<FileContent<E>>> {
    const abort = new AbortController();
    const forward = () => abort.abort();
    options.signal?.addEventListener("abort", forward, { once: true });
    let streamId: string | null = null;
    let ended = false;
    try {
      let response = await this.call("execute", "POST", "/execute/stream", this.body(request), true, abort.signal);
      streamId = response.headers.get("x-stream-id");
      let lastId = "0";
      for (let resumes = 0; ; resumes++) {
        if (!response.body) throw new RemoteError(response.status, "Cannot execute: the server sent no stream");
        try {
          for await (const message of parseSse(response.body)) {
            if (message.id !== undefined) lastId = message.id;
            const event = JSON.parse(message.data) as StreamEvent;
            ended = event.type === "exit" || event.type === "error";
            yield event.type === "exit" ? { type: "exit", data: decodeFiles(event.data, options.fileEncoding) } : event;
            if (ended) return;
          }
          return;
        } catch (error) {
          if (abort.signal.aborted || !streamId || resumes >= MAX_RESUMES) throw error;
        }
        const path = `/execute/stream/${encodeURIComponent(streamId)}`;
        response = await this.call("resume the event stream", "GET", path, undefined, true, abort.signal, { "last-event-id": lastId });
      }
    } finally {
      options.signal?.removeEventListener("abort", forward);
      abort.abort();
      if (streamId && !ended) {
        // Best effort: without it the server stops the program once its resume window passes.
        await this.call("stop the execution", "DELETE", `/execute/stream/${encodeURIComponent(streamId)}`).catch(() => {});
      }
    }
  }

  /** Writes a file into this client's session container. */
  async putFile(path: string, content: string | Uint8Array): Promise<void> {
    const sessionId = this.requireSession("putFile");
    const data = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
    await this.call("write the file", "POST", "/file", { sessionId, path, content: data.toString("base64") });
  }

  /** Reads a file from this client's session container. */
  async getFile(path: string): Promise<Buffer> {
    const sessionId = this.requireSession("getFile");
    const query = new URLSearchParams({ sessionId, path });
    const response = await this.call("read the file", "GET", `/file?${query}`);
    return Buffer.from(((await response.json()) as { content: string }).content, "base64");
  }

  /** The server's runtimes and the state of their images (`GET /runtimes`). */
  async runtimeStatus(): Promise<RuntimeInfo[]> {
    const response = await this.call("list the runtimes", "GET", "/runtimes");
    return ((await response.json()) as { runtimes: RuntimeInfo[] }).runtimes;
  }

  /** Starts a code-interpreter context in this client's session (created on the server when new). */
  async createContext(request: CreateContextRequest = {}): Promise<RemoteContext> {
    const base = this.contextsPath("createContext");
    const response = await this.call("create the context", "POST", base, request);
    const { context } = (await response.json()) as { context: ContextInfo };
    return this.contextHandle(context);
  }

  async listContexts(): Promise<ContextInfo[]> {
    const response = await this.call("list the contexts", "GET", this.contextsPath("listContexts"));
    return ((await response.json()) as { contexts: ContextInfo[] }).contexts;
  }

  /** A handle on an existing context of this client's session. */
  async getContext(id: string): Promise<RemoteContext> {
    const found = (await this.listContexts()).find((c) => c.id === id);
    if (!found) throw new RemoteError(404, `Cannot find context "${id}": the session has no such context`);
    return this.contextHandle(found);
  }

  /** Interrupts the running cell with this execution id; false when no such cell runs. */
  async cancel(executionId: string): Promise<boolean> {
    const session = encodeURIComponent(this.requireSession("cancel"));
    const response = await this.call("cancel the cell", "POST", `/sessions/${session}/cancel`, { executionId });
    return ((await response.json()) as { cancelled: boolean }).cancelled;
  }

  private contextsPath(operation: string): string {
    return `/sessions/${encodeURIComponent(this.requireSession(operation))}/contexts`;
  }

  private contextHandle(context: ContextInfo): RemoteContext {
    const call = (action: string, method: string, path: string, body?: unknown, signal?: AbortSignal) => this.call(action, method, path, body, true, signal);
    return new RemoteContext(call, `${this.contextsPath("createContext")}/${context.id}`, context.id, context.runtime);
  }

  private body(request: ExecutionRequest): unknown {
    const effective = withRequestDefaults(request, this.defaults);
    return { request: toWire(effective), ...(this.options.sessionId ? { sessionId: this.options.sessionId } : {}) };
  }

  private requireSession(operation: string): string {
    if (!this.options.sessionId) {
      throw new Isol8Error(`Cannot ${operation}: files and contexts need a session`, "create the client with a sessionId");
    }
    return this.options.sessionId;
  }

  private async call(
    action: string,
    method: string,
    path: string,
    body?: unknown,
    auth = true,
    signal?: AbortSignal,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (auth && this.key) headers.authorization = `Bearer ${this.key}`;
    // A load balancer keeps a session's requests on the instance that holds it by this header.
    if (this.options.sessionId) headers[SESSION_HEADER] = this.options.sessionId;
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      throw new RemoteError(0, `Cannot ${action}: the server at "${this.base}" does not answer (${(error as Error).message})`, "check --host and that isol8 serve runs");
    }
    if (response.ok) return response;
    const detail = parseErrorBody(await response.json().catch(() => null));
    const message = `Cannot ${action}: HTTP ${response.status}: ${detail?.message ?? response.statusText}`;
    // The library's own failure (RequestError with its field, FileError with its reason, ...): the same class as DockerIsol8's.
    const typed = detail && isol8ErrorOfBody(detail, message);
    if (typed) throw typed;
    const retryAfter = Number(response.headers.get("retry-after") ?? Number.NaN);
    const wait = Number.isFinite(retryAfter) ? retryAfter : undefined;
    const hint =
      detail?.code === "unauthorized" || detail?.code === "forbidden"
        ? "pass the server's key with --key or ISOL8_API_KEY"
        : wait !== undefined
          ? `retry after ${wait} s (Retry-After)`
          : undefined;
    throw new RemoteError(response.status, message, hint, detail?.code, wait, detail ?? undefined);
  }
}

/** Output files as the caller asked: base64 as sent (the default), or decoded to bytes. */
function decodeFiles<E extends FileEncoding, S extends ExecutionSummary>(summary: S, encoding: E | undefined): Omit<S, "files"> & ExecutionSummary<FileContent<E>> {
  if (encoding !== "bytes" || !summary.files) return summary as never;
  const files = Object.fromEntries(Object.entries(summary.files).map(([path, base64]) => [path, Buffer.from(base64, "base64")]));
  return { ...summary, files } as never;
}
