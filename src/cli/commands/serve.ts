import { UsageError } from "../../errors";
import { type RunningServer, startServer } from "../../server/serve";
import { debugArgs } from "../arg-fragments";
import { defineIsol8Command } from "../command";
import { daemonPaths, prepareDaemonDir } from "../local-daemon";
import { unlinkSync } from "node:fs";
import type { Isol8Config } from "../../config/schema";
import { nodeStream } from "../std-streams";

/**
 * The local daemon's directory, key and socket path. Refused when a daemon already answers on
 * the socket; a socket no one answers on is stale and removed.
 */
async function claimDaemonDir(config: Isol8Config): Promise<{ socket: string; key: string }> {
  const paths = daemonPaths(process.env);
  const answers = await fetch("http://localhost/health", { unix: paths.socket, signal: AbortSignal.timeout(1_000) } as RequestInit).then(
    () => true,
    () => false,
  );
  if (answers) throw new UsageError(`Cannot start a local daemon: one already listens on "${paths.socket}"`, "stop it first (Ctrl-C in its terminal, or kill its process)");
  try {
    unlinkSync(paths.socket);
  } catch {}
  try {
    return { socket: paths.socket, key: prepareDaemonDir(paths, config) };
  } catch (error) {
    throw new UsageError((error as Error).message, "name a directory of your own with ISOL8_DAEMON_DIR");
  }
}

const serveArgs = {
  port: { type: "string", description: "Port (default: $ISOL8_PORT, $PORT, then 3000; 0 = any free port)" },
  key: {
    type: "string",
    description: "API key clients must send as Authorization: Bearer <key>; repeat for several keys, each owning its own sessions (default: $ISOL8_API_KEY)",
  },
  hostname: { type: "string", description: "Address to listen on (default 0.0.0.0)" },
  local: {
    type: "boolean",
    description:
      "Serve only this user, on a Unix socket in an owner-only directory ($ISOL8_DAEMON_DIR, else $XDG_RUNTIME_DIR/isol8, else ~/.isol8/daemon) with a key of its own: isol8 run uses it when it runs with the same configuration",
  },
  update: { type: "boolean", description: "Update this binary to the latest release, then serve with it" },
  ...debugArgs,
} as const;

/** Port precedence: --port, then ISOL8_PORT, then PORT, then 3000. */
export function resolvePort(flag: string | undefined, env: NodeJS.ProcessEnv): number {
  const raw = flag ?? env.ISOL8_PORT ?? env.PORT ?? "3000";
  const port = raw.trim() === "" ? Number.NaN : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    const from = flag !== undefined ? "--port" : env.ISOL8_PORT !== undefined ? "$ISOL8_PORT" : "$PORT";
    throw new UsageError(`Cannot use ${from} "${String(raw)}": expected a port 0-65535 (0: any free port)`);
  }
  return port;
}

/**
 * The accepted keys: every --key, else ISOL8_API_KEY (one key, as clients read it too). A key
 * that is empty or starts or ends with whitespace could never be presented: refused.
 */
export function resolveApiKeys(flags: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const keys = flags.length ? [...flags] : env.ISOL8_API_KEY ? [env.ISOL8_API_KEY] : [];
  if (keys.length === 0) throw new UsageError("Cannot start the server: no API key", "pass --key <key> (repeatable) or set ISOL8_API_KEY");
  for (const key of keys) {
    if (key.trim() !== key || key === "") {
      throw new UsageError("Cannot start the server with an API key: it is empty or starts or ends with whitespace", "no client could present such a key");
    }
  }
  return keys;
}

export default defineIsol8Command({
  meta: { name: "serve", description: "Serve the HTTP API (one engine and warm pool for all clients)" },
  args: serveArgs,
  repeatable: ["key"],
  async run({ flags, rawArgs, config, configSources }) {
    if (flags.update) {
      const { updateAndReexec } = await import("../update-command");
      return updateAndReexec(rawArgs);
    }
    if (flags.local && (flags.port !== undefined || flags.hostname !== undefined || flags.key.length)) {
      throw new UsageError("Cannot use --port, --hostname or --key with --local", "the local daemon listens only on its Unix socket, with a key of its own");
    }
    const local = flags.local ? await claimDaemonDir(config) : undefined;
    const apiKeys = local ? [local.key] : resolveApiKeys(flags.key, process.env);
    const port = local ? 0 : resolvePort(flags.port, process.env);
    // The server formats its own lines (server.logFormat: json | pretty): written as they are,
    // through Node's streams (a server never waits for a slow reader of its logs; an audit log
    // with destination stdout writes there too, and main.ts flushes both when the server ends).
    const log = (line: string) => void nodeStream("stderr").write(`${line}\n`);
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
        apiKeys,
        port,
        hostname: flags.hostname ?? "0.0.0.0",
        ...(local ? { unix: local.socket } : {}),
        log,
        debug: Boolean(flags.debug),
        onListening: (url) => void nodeStream("stdout").write(`isol8 ${url}\n`),
        ...(process.env.ISOL8_SCOPE ? { scope: process.env.ISOL8_SCOPE } : {}),
      });
      server.log(`config: ${configSources.length ? configSources.join(" + ") : "(built-in defaults)"}`);
      if (signalled) stop(signalled);
      return await exit;
    } finally {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    }
  },
});
