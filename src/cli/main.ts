#!/usr/bin/env bun
// The isol8 CLI. Commands are thin: parse, call the engine/config/server, print.
// This file maps every failure to one message and an exit code (see README: exit codes).
import { type CommandDef, defineCommand, renderUsage, runCommand } from "citty";
import { formatError, Isol8Error } from "../errors";
import { forStream } from "./color";
import { VERSION } from "../version";
import { flushOpenedStreams, standardError, standardOutput } from "./std-streams";

const commands: Record<string, () => Promise<CommandDef>> = {
  run: () => import("./commands/run").then((m) => m.default as CommandDef),
  setup: () => import("./commands/setup").then((m) => m.default as CommandDef),
  config: () => import("./commands/config").then((m) => m.default as CommandDef),
  cleanup: () => import("./commands/cleanup").then((m) => m.default as CommandDef),
  serve: () => import("./commands/serve").then((m) => m.default as CommandDef),
  keys: () => import("./commands/keys").then((m) => m.default as CommandDef),
  build: () => import("./commands/build").then((m) => m.default as CommandDef),
  openapi: () => import("./commands/openapi").then((m) => m.default as CommandDef),
  repl: () => import("./commands/repl").then((m) => m.default as CommandDef),
  doctor: () => import("./commands/doctor").then((m) => m.default as CommandDef),
  mcp: () => import("./commands/mcp").then((m) => m.default as CommandDef),
};

/** Listed in the help only: `isol8 help [command]` is answered by runCli itself. */
const helpCommand = defineCommand({ meta: { name: "help", description: "Show the help of isol8 or of a command (isol8 help run)" } });

export const main = defineCommand({
  meta: { name: "isol8", version: VERSION, description: "Run untrusted code in locked-down Docker containers" },
  subCommands: { ...commands, help: () => Promise.resolve(helpCommand as CommandDef) },
});

/** The help of a command (or of isol8 itself), coloured only when stdout takes colour. */
async function printHelp(load: (() => Promise<CommandDef>) | undefined): Promise<void> {
  const usage = await renderUsage(load ? await load() : main, load ? (main as CommandDef) : undefined);
  standardOutput().write(`${forStream(usage, standardOutput())}\n`);
}

const isHelpFlag = (arg: string | undefined) => arg === "--help" || arg === "-h";

/** Runs the CLI and returns the process exit code. */
export async function runCli(rawArgs: string[]): Promise<number> {
  if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
    standardOutput().write(`${VERSION}\n`);
    return 0;
  }
  const [name, ...rest] = rawArgs;
  // `isol8`, `isol8 --help`, `isol8 help [command]`: help on stdout, exit 0.
  if (name === undefined || isHelpFlag(name) || name === "help") {
    const topic = name === "help" ? rest.find((arg) => !isHelpFlag(arg)) : undefined;
    if (topic !== undefined && !commands[topic]) {
      standardError().write(`isol8: Cannot show help for "${topic}": unknown command\nhint: commands: ${Object.keys(commands).join(", ")}\n`);
      return 2;
    }
    await printHelp(topic === undefined ? undefined : commands[topic]);
    return 0;
  }
  const load = commands[name];
  // A --help meant for the program (after `--`) is the program's.
  const own = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (!load || own.some(isHelpFlag)) {
    await printHelp(load);
    if (load) return 0;
    standardError().write(`isol8: unknown command "${name}"\n`);
    return 2;
  }
  try {
    // Each command returns its exit code (citty's runCommand does not pass a subcommand's result up).
    const { result } = await runCommand(await load(), { rawArgs: rest });
    return typeof result === "number" ? result : 0;
  } catch (error) {
    if (error instanceof Isol8Error) {
      standardError().write(`isol8: ${formatError(error)}\n`);
      return error.exitCode;
    }
    if ((error as { code?: string }).code?.startsWith("E_")) {
      // citty's own usage errors (unknown command, ...)
      standardError().write(`isol8: ${(error as Error).message.replace(/\x1b\[[0-9;]*m/g, "")}\nhint: see isol8 --help\n`);
      return 2;
    }
    standardError().write(`isol8: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
    if (process.env.ISOL8_DEBUG) standardError().write(`${(error as Error)?.stack}\n`);
    return 125;
  }
}

if (import.meta.main) {
  const code = await runCli(process.argv.slice(2));
  // What went through Node's streams must reach a pipe before the process ends.
  await flushOpenedStreams();
  process.exit(code);
}
