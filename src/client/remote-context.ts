// A context of a remote session: the Isol8Context interface over the HTTP routes of
// src/server/context-routes.ts. Plain fetch, no Bun APIs.
import type { CellOptions, CellResult, ContextInfo, ContextRuntime, Isol8Context } from "../protocol/context";
import { parseCellEvents } from "../protocol/sse";
import { RemoteError } from "./remote";

/** How a remote context reaches the server (RemoteIsol8's authenticated call). */
export type RemoteCall = (action: string, method: string, path: string, body?: unknown, signal?: AbortSignal) => Promise<Response>;

export class RemoteContext implements Isol8Context {
  constructor(
    private readonly call: RemoteCall,
    /** `/sessions/<id>/contexts/<context id>` */
    private readonly path: string,
    readonly id: string,
    readonly runtime: ContextRuntime,
  ) {}

  /** Runs one cell: collected, or streamed when a callback asks for output as it comes. */
  async run(code: string, options: CellOptions = {}): Promise<CellResult> {
    const body = { code, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) };
    if (!options.onStart && !options.onStdout && !options.onStderr && !options.onResult) {
      const response = await this.call("run the cell", "POST", `${this.path}/run`, body, options.signal);
      return (await response.json()) as CellResult;
    }
    const response = await this.call("run the cell", "POST", `${this.path}/run/stream`, body, options.signal);
    if (!response.body) throw new RemoteError(response.status, "Cannot run the cell: the server sent no stream");
    for await (const event of parseCellEvents(response.body)) {
      if (event.type === "start") options.onStart?.(event.data.executionId);
      else if (event.type === "stdout") options.onStdout?.(event.data);
      else if (event.type === "stderr") options.onStderr?.(event.data);
      else if (event.type === "result") options.onResult?.(event.data);
      else if (event.type === "done") return event.data;
      else throw new RemoteError(response.status, `Cannot run the cell: ${event.data}`);
    }
    throw new RemoteError(response.status, "Cannot run the cell: the stream ended without a result");
  }

  async restart(): Promise<void> {
    await this.call("restart the context", "POST", `${this.path}/restart`, {});
  }

  async close(): Promise<void> {
    await this.call("close the context", "DELETE", this.path);
  }

  async info(): Promise<ContextInfo> {
    const base = this.path.slice(0, this.path.lastIndexOf("/"));
    const response = await this.call("list the contexts", "GET", base);
    const found = ((await response.json()) as { contexts: ContextInfo[] }).contexts.find((c) => c.id === this.id);
    if (!found) throw new RemoteError(404, `Cannot find context "${this.id}": the session has no such context`);
    return found;
  }
}
