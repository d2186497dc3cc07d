import { RemoteIsol8 } from "../../client/remote";
import { DockerIsol8 } from "../../engine/engine";
import { UsageError } from "../../errors";
import { createSandboxBackend } from "../../mcp/sandbox-backend";
import { serveStdio } from "../../mcp/stdio";
import { sizeToBytes } from "../../protocol/sizes";
import { applyServerPolicy, policyOffers } from "../../server/policy";
import { VERSION } from "../../version";
import { debugArgs } from "../arg-fragments";
import { defineIsol8Command } from "../command";
import { nodeStream } from "../std-streams";

const mcpArgs = {
  host: { type: "string", description: "Use an isol8 server at this URL (its /sessions) instead of local Docker" },
  key: { type: "string", description: "API key for --host (default: $ISOL8_API_KEY)" },
  ...debugArgs,
} as const;

export default defineIsol8Command({
  meta: { name: "mcp", description: "An MCP server on stdin/stdout: code execution tools for an agent (one sandbox per runtime, removed when the client leaves)" },
  args: mcpArgs,
  async run({ flags, config, debugLog }) {
    if (flags.key && !flags.host) throw new UsageError("Cannot use --key without --host", "--key is the API key of the server named by --host");
    // stdout carries the protocol: every log line goes to stderr.
    const log = debugLog ?? (() => {});
    const scope = process.env.ISOL8_SCOPE ? { scope: process.env.ISOL8_SCOPE } : {};
    const host = flags.host;
    const imageOf = (runtime: keyof typeof config.server.mcp.images) => (config.server.mcp.images[runtime] ? { image: config.server.mcp.images[runtime] } : {});
    const sessionPrefix = `mcp-${crypto.randomUUID().slice(0, 12)}`;
    const backend = host
      ? createSandboxBackend({
          // The server holds its clients to its own policy: refusals come back as its errors.
          open: (runtime) => new RemoteIsol8({ host, ...(flags.key ? { apiKey: flags.key } : {}), sessionId: `${sessionPrefix}-${runtime}` }),
          admit: (request) => request,
          runtimes: () => new RemoteIsol8({ host, ...(flags.key ? { apiKey: flags.key } : {}) }).runtimeStatus(),
          offered: null,
        })
      : (() => {
          // The agent is held to the policy `isol8 serve` holds its HTTP clients to (server.* of the config).
          const status = new DockerIsol8({ config, pool: false, ...scope, ...(debugLog ? { log: debugLog } : {}) });
          return createSandboxBackend({
            open: (runtime) => new DockerIsol8({ mode: "persistent", runtime, config, ...scope, ...imageOf(runtime), ...(debugLog ? { log: debugLog } : {}) }),
            admit: (request) => applyServerPolicy(request, { config, builtinImages: [] }),
            runtimes: () => status.runtimeStatus(),
            offered: policyOffers(config),
            maxFileBytes: sizeToBytes(config.server.maxFileSize),
          });
        })();
    const session = await serveStdio({ backend, version: VERSION, mask: false, log }, { stdin: nodeStream("stdin"), stdout: nodeStream("stdout") });
    const onSignal = () => void session.stop();
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      await session.done;
      return 0;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
});
