// An McpBackend over engines the caller opens: one per runtime, started on first use, stopped
// when the session closes. `isol8 mcp` opens local persistent engines or remote sessions.
import type { RuntimeInfo } from "../protocol/runtime-info";
import type { ExecutionRequest } from "../protocol/execution";
import type { RuntimeName } from "../runtimes/registry";
import type { McpAudit, McpBackend, McpSandbox } from "./backend";
import type { OfferedOptions } from "./tool-schemas";

export interface SandboxBackendOptions {
  /** A new, unstarted sandbox for the runtime (a persistent engine, a remote session). */
  open(runtime: RuntimeName): McpSandbox;
  admit(request: ExecutionRequest): ExecutionRequest;
  runtimes(): Promise<RuntimeInfo[]>;
  offered: OfferedOptions | null;
  maxFileBytes?: number;
  audit?: McpAudit;
}

export function createSandboxBackend(options: SandboxBackendOptions): McpBackend {
  const sandboxes = new Map<RuntimeName, Promise<McpSandbox>>();
  let closed = false;
  const sandboxOf = (runtime: RuntimeName): Promise<McpSandbox> => {
    let sandbox = sandboxes.get(runtime);
    if (!sandbox) {
      const opened = options.open(runtime);
      sandbox = opened.start().then(() => opened);
      sandboxes.set(runtime, sandbox);
      // A sandbox that failed to start is tried again by the next call.
      sandbox.catch(() => sandboxes.get(runtime) === sandbox && sandboxes.delete(runtime));
    }
    return sandbox;
  };
  return {
    async use(runtime, work) {
      if (closed) throw new Error("the MCP session is closed");
      return work(await sandboxOf(runtime), options.audit ?? {});
    },
    admit: options.admit,
    slot: async () => () => {},
    runtimes: options.runtimes,
    offered: options.offered,
    ...(options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {}),
    async close() {
      closed = true;
      const all = [...sandboxes.values()];
      sandboxes.clear();
      await Promise.allSettled(all.map(async (sandbox) => (await sandbox).stop()));
    },
  };
}
