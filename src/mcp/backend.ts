// What the MCP tools need of the engine behind them: one sandbox per runtime for the MCP
// session, the policy its client is held to, and execution slots. Three bindings implement it:
// the local engine (`isol8 mcp`), a remote server (`isol8 mcp --host`), and the server's own
// sessions (`/mcp` on `isol8 serve`, src/server/mcp-route.ts).
import type { Isol8Contexts } from "../protocol/context";
import type { ExecutionRequest } from "../protocol/execution";
import type { Isol8 } from "../protocol/isol8";
import type { RuntimeInfo } from "../protocol/runtime-info";
import type { SandboxFiles } from "../protocol/sandbox-files";
import type { RuntimeName } from "../runtimes/registry";
import type { OfferedOptions } from "./tool-schemas";

/** One runtime's sandbox of an MCP session: a persistent container with its files and contexts. */
export interface McpSandbox extends Isol8, Isol8Contexts {
  /** The regular files under /sandbox (absent: the binding cannot list them). */
  listFiles?(): Promise<SandboxFiles>;
}

/** Who asked, for the audit record (the binding's principal and session; the tools add the MCP client). */
export interface McpAudit {
  principal?: string;
  sessionId?: string;
}

export interface McpBackend {
  /** Runs work on this MCP session's sandbox of `runtime` (created on first use). */
  use<T>(runtime: RuntimeName, work: (sandbox: McpSandbox, audit: McpAudit) => Promise<T>): Promise<T>;
  /** The request as the policy lets it run; throws the policy's refusal (an option it does not allow). */
  admit(request: ExecutionRequest): ExecutionRequest;
  /** Takes an execution slot (released by the returned function); throws when none is free. */
  slot(): Promise<() => void>;
  /** The runtimes and the state of their images. */
  runtimes(): Promise<RuntimeInfo[]>;
  /** What run_code's schema offers (null: every option of the protocol, e.g. a remote server decides). */
  offered: OfferedOptions | null;
  /** The largest file write_file and read_file move (absent: no bound beyond the engine's). */
  maxFileBytes?: number;
  /** Ends the session: every sandbox (container) is removed. */
  close(): Promise<void>;
}
