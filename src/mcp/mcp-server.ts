// One MCP server per MCP session (the SDK's low-level Server: tool schemas are ours, from the
// protocol's valibot schemas, and a thrown failure is a JSON-RPC error, never a tool result).
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { McpBackend } from "./backend";
import { createProgressReporter } from "./progress";
import { toMcpError } from "./tool-errors";
import { createToolSet } from "./tools";

export interface McpServerOptions {
  backend: McpBackend;
  version: string;
  /** Hide Docker and sandbox failure details (a server's clients), as the HTTP API does. */
  mask: boolean;
  log(line: string): void;
}

const INSTRUCTIONS =
  "isol8 runs code in locked-down sandboxes (containers without network unless asked, with memory, CPU and time limits). " +
  "run_code runs a program and returns its output; run_cell runs code in a persistent interpreter (state kept between cells, " +
  "plots returned as images). Each runtime has its own sandbox for this session: files under /sandbox persist across its calls " +
  "(write_file, read_file, list_files) and are removed when the session ends.";

/** The MCP client's name as the audit log records it: printable, at most 100 characters. */
export function clientName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const clean = name.replace(/[\p{Cc}\p{Cf}]/gu, "?").slice(0, 100);
  return clean || undefined;
}

export function createMcpServer(options: McpServerOptions): Server {
  const server = new Server({ name: "isol8", version: options.version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  const tools = createToolSet(options.backend);
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: tools.list }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const progress = createProgressReporter(request.params._meta?.progressToken, extra.sendNotification);
    const client = clientName(server.getClientVersion()?.name);
    try {
      return await tools.call(request.params.name, request.params.arguments, {
        signal: extra.signal,
        progress: (output) => progress.report(output),
        ...(client ? { client } : {}),
      });
    } catch (error) {
      throw toMcpError(error, { mask: options.mask, unexpected: (e) => options.log(`unexpected error: ${(e as Error)?.stack ?? String(e)}`) });
    } finally {
      progress.stop();
    }
  });
  return server;
}
