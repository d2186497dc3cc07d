// `isol8 mcp`: one MCP session over this process's stdin and stdout. It ends when the client
// closes stdin (or `stop()` is called, on a signal); its sandboxes are removed before it returns.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createMcpServer, type McpServerOptions } from "./mcp-server";

export interface StdioSession {
  /** Resolves once the client has gone and every sandbox of the session is removed. */
  done: Promise<void>;
  /** Ends the session now (a signal). */
  stop(): Promise<void>;
}

export async function serveStdio(options: McpServerOptions, io: { stdin?: NodeJS.ReadStream; stdout?: NodeJS.WriteStream } = {}): Promise<StdioSession> {
  const stdin = io.stdin ?? process.stdin;
  const server = createMcpServer(options);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  server.onclose = resolveClosed;
  const stop = async () => {
    await server.close();
  };
  // The SDK's transport does not watch for the end of stdin: a client that leaves closes it.
  stdin.once("end", () => void stop());
  stdin.once("close", () => void stop());
  await server.connect(new StdioServerTransport(stdin, io.stdout ?? process.stdout));
  const done = closed.then(() => options.backend.close());
  return { done, stop: async () => {
    await stop();
    await done;
  } };
}
