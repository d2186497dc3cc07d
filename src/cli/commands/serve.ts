import { defineCommand } from "citty";
import { loadConfig } from "../../config/load";
import { UsageError } from "../../errors";
import { type RunningServer, startServer } from "../../server/serve";
import { numberFlag, rejectUnknownFlags } from "../args";
import { stderrLog } from "../log";

const serveArgs = {
  port: { type: "string", description: "Port (default: $ISOL8_PORT, $PORT, then 3000; 0 = any free port)" },
  key: { type: "string", description: "API key clients must send as Authorization: Bearer <key> (default: $ISOL8_API_KEY)" },
  hostname: { type: "string", description: "Address to listen on (default 0.0.0.0)" },
  update: { type: "boolean", description: "Update this binary to the latest release, then serve with it" },
  debug: { type: "boolean", description: "Engine logs on stderr" },
} as const;

/** Port precedence: --port, then ISOL8_PORT, then PORT, then 3000. */
export function resolvePort(flag: unknown, env: NodeJS.ProcessEnv): number {
  const raw = flag ?? env.ISOL8_PORT ?? env.PORT ?? "3000";
  const port = numberFlag("port", raw);
  if (port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`Cannot use port "${String(raw)}": expected 0-65535`);
  }
  return port;
}

export default defineCommand({
  meta: { name: "serve", description: "Serve the HTTP API (one engine and warm pool for all clients)" },
  args: serveArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, serveArgs, "serve");
    if (args.update) {
      const { updateAndReexec } = await import("../update-command");
      return updateAndReexec(rawArgs);
    }
    const { config, source } = loadConfig({ file: process.env.ISOL8_CONFIG });
    const apiKey = args.key ?? process.env.ISOL8_API_KEY;
    if (!apiKey) throw new UsageError("Cannot start the server: no API key", "pass --key <key> or set ISOL8_API_KEY");
    const port = resolvePort(args.port, process.env);
    const log = (line: string) => stderrLog(line);
    // Signals are handled from the start: one that arrives while the server is starting
    // shuts it down as soon as it is up (never the default action, which would leave containers).
    let server: RunningServer | undefined;
    let signalled: string | undefined;
    let resolveExit!: (code: number) => void;
    const exit = new Promise<number>((resolve) => (resolveExit = resolve));
    const stop = (signal: string) => {
      signalled ??= signal;
      if (server) void server.shutdown(signal).then(() => resolveExit(0));
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    try {
      server = await startServer({
        config,
        apiKey,
        port,
        hostname: args.hostname ?? "0.0.0.0",
        log: args.debug ? log : (line) => (line.startsWith("container ") ? undefined : log(line)),
        onListening: (url) => process.stdout.write(`isol8 ${url}\n`),
        ...(process.env.ISOL8_SCOPE ? { scope: process.env.ISOL8_SCOPE } : {}),
      });
      log(`config: ${source ?? "(built-in defaults)"}`);
      if (signalled) stop(signalled);
      return await exit;
    } finally {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    }
  },
});
