// What every isol8 engine offers, local (DockerIsol8) or remote (RemoteIsol8). The CLI, the
// server's adapters and embedders program against this interface, never a concrete class.
import type { ExecutionRequest, ExecutionResult, FileContent, FileEncoding, StreamEvent } from "./execution";

/** Per-call options of execute() and executeStream(). */
export interface ExecuteOptions<E extends FileEncoding = "base64"> {
  /** Stops the program (every process of it) when aborted; the result says so. */
  signal?: AbortSignal;
  /** Who asked, for the audit record (set by the server; `client`: the MCP client's name). */
  audit?: { sessionId?: string; principal?: string; requestId?: string; client?: string };
  /** How output files come back: "base64" (default) or "bytes" (`Uint8Array`s, no base64 copy). */
  fileEncoding?: E;
}

export interface Isol8 {
  /** Checks the engine can work (Docker answers, or the server is up). */
  start(): Promise<void>;
  /** Releases what the engine holds (containers, or a remote session). */
  stop(): Promise<void>;
  /** Runs code and collects its output. Outcomes of the code are fields of the result. */
  execute<E extends FileEncoding = "base64">(request: ExecutionRequest, options?: ExecuteOptions<E>): Promise<ExecutionResult<FileContent<E>>>;
  /**
   * Runs code and yields its output as produced: `stdout`/`stderr` events, then exactly one
   * `exit` (or `error`) event. Breaking out of the loop stops the program.
   */
  executeStream<E extends FileEncoding = "base64">(request: ExecutionRequest, options?: ExecuteOptions<E>): AsyncGenerator<StreamEvent<FileContent<E>>>;
  /** Writes a file under /sandbox of a persistent container (session). */
  putFile(path: string, content: string | Uint8Array): Promise<void>;
  /** Reads a file under /sandbox of a persistent container (session). */
  getFile(path: string): Promise<Buffer>;
}
