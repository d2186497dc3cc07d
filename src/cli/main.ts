#!/usr/bin/env bun
// The isol8 CLI. Commands are thin: parse, call the engine/config/server, print.
// This file maps every failure to one message and an exit code (see README: exit codes).
import { type CommandDef, defineCommand, renderUsage, runCommand } from "citty";
import { formatError, Isol8Error } from "../errors";
import { VERSION } from "../version";

const commands: Record<string, () => Promise<CommandDef>> = {
  run: () => import("./commands/run").then((m) => m.default as CommandDef),
  setup: () => import("./commands/setup").then((m) => m.default as CommandDef),
  config: () => import("./commands/config").then((m) => m.default as CommandDef),
  cleanup: () => import("./commands/cleanup").then((m) => m.default as CommandDef),
  serve: () => import("./commands/serve").then((m) => m.default as CommandDef),
  build: () => import("./commands/build").then((m) => m.default as CommandDef),
};

export const main = defineCommand({
  meta: { name: "isol8", version: VERSION, description: "Run untrusted code in locked-down Docker containers" },
  subCommands: commands,
});

/** Runs the CLI and returns the process exit code. */
export async function runCli(rawArgs: string[]): Promise<number> {
  if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [name, ...rest] = rawArgs;
  const load = name ? commands[name] : undefined;
  if (!load || rest.includes("--help") || rest.includes("-h")) {
    const known = name === undefined || name === "--help" || name === "-h" || load;
    const command = load ? await load() : main;
    process.stdout.write(`${await renderUsage(command, load ? (main as CommandDef) : undefined)}\n`);
    if (!known) process.stderr.write(`isol8: unknown command "${name}"\n`);
    return known && name !== undefined ? 0 : 2;
  }
  try {
    // Each command returns its exit code (citty's runCommand does not pass a subcommand's result up).
    const { result } = await runCommand(await load(), { rawArgs: rest });
    return typeof result === "number" ? result : 0;
  } catch (error) {
    if (error instanceof Isol8Error) {
      process.stderr.write(`isol8: ${formatError(error)}\n`);
      return error.exitCode;
    }
    if ((error as { code?: string }).code?.startsWith("E_")) {
      // citty's own usage errors (unknown command, ...)
      process.stderr.write(`isol8: ${(error as Error).message.replace(/\x1b\[[0-9;]*m/g, "")}\nhint: see isol8 --help\n`);
      return 2;
    }
    process.stderr.write(`isol8: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
    if (process.env.ISOL8_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
    return 125;
  }
}

/** Ends the stream and resolves once everything written to it has been flushed. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.once("error", () => resolve());
    stream.end(() => resolve());
  });
}

if (import.meta.main) {
  const code = await runCli(process.argv.slice(2));
  // Piped output must be complete before the process ends.
  // (a write callback alone is not enough: Bun reports it before a pipe has taken the data)
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
