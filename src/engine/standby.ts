import type { Runtime } from "../runtimes/registry";
import { PROGRAM_BASENAME, SANDBOX_DIR } from "./paths";

/** The container environment variable that describes the standby program (supervisor.c, "standby program"). */
export const STANDBY_ENV = "ISOL8_STANDBY";

/**
 * A program the supervisor of a pooled node or bun container starts ahead of the next
 * execution, as that execution's program would start (sandbox uid, no capabilities, the
 * seccomp profile), after every clean: it waits for the execution's argv, environment and
 * working directory, then runs the program file as the runtime's command would.
 */
export interface StandbyProgram {
  /** The runtime's standby command (its interpreter and the standby script in the image). */
  argv: string[];
  /** The entries of the container's constant environment that the runtime reads as it starts. */
  env: string[];
  /** Files under /sandbox the runtime reads as it starts: writing one discards the waiting program. */
  startupFiles: string[];
  /** The program file it starts on (deno): it takes only executions of that file without arguments. */
  file?: string;
}

export interface StandbyChoice {
  /** security.standbyPrograms (the config switch). */
  enabled: boolean;
  runtime: Pick<Runtime, "standby" | "defaultExtension">;
  /** A custom image: it may not hold the standby scripts. */
  customImage: boolean;
  /** A container made for one execution (cold): nothing comes after it to start ahead for. */
  oneShot: boolean;
  /**
   * The environment every execution of the container gets from the engine (the runtime's own
   * entries and its heap limit), before the request's entries.
   */
  constantEnv: Readonly<Record<string, string>>;
}

const nameOf = (entry: string) => entry.slice(0, Math.max(0, entry.indexOf("=")));

/** Each runtime's start-up pattern, compiled once: every warm execution is checked against it. */
const compiled = new Map<string, RegExp>();
const startupPattern = (source: string): RegExp => {
  let pattern = compiled.get(source);
  if (!pattern) compiled.set(source, (pattern = new RegExp(source)));
  return pattern;
};

/** The container's standby program, or none. Pure. */
export function standbyProgram(choice: StandbyChoice): StandbyProgram | undefined {
  const standby = choice.runtime.standby;
  if (!choice.enabled || !standby || choice.customImage || choice.oneShot) return undefined;
  const startup = startupPattern(standby.startupEnv);
  const file = standby.onDefaultProgram ? `${SANDBOX_DIR}/${PROGRAM_BASENAME}${choice.runtime.defaultExtension}` : undefined;
  return {
    argv: [...standby.argv, ...(file ? [file] : [])],
    env: Object.entries(choice.constantEnv)
      .filter(([name]) => startup.test(name))
      .map(([name, value]) => `${name}=${value}`),
    startupFiles: [...(standby.startupFiles ?? [])],
    ...(file ? { file } : {}),
  };
}

/**
 * Whether an execution may be handed to the standby program: the environment entries the
 * runtime reads as it starts (NODE_OPTIONS, LD_*, ...) are exactly those it started with, so
 * the program starts as it would have with the execution's own environment; and when the
 * standby program started on a program file (deno), the execution runs that file without
 * arguments. Pure.
 */
export function fitsStandby(
  program: StandbyProgram,
  runtime: Pick<Runtime, "standby">,
  env: readonly string[],
  execution: { programPath: string; args: readonly string[] },
): boolean {
  if (!runtime.standby) return false;
  if (program.file !== undefined && (program.file !== execution.programPath || execution.args.length > 0)) return false;
  const startup = startupPattern(runtime.standby.startupEnv);
  const read = new Set(env.filter((entry) => startup.test(nameOf(entry))));
  return read.size === program.env.length && program.env.every((entry) => read.has(entry));
}

/**
 * The container environment entry the supervisor reads: one line per argument ("a"),
 * environment entry ("e") and start-up file ("f"). Every part comes from isol8's runtime
 * definitions and limits, never from a request.
 */
export function standbyEnv(program: StandbyProgram): string {
  const lines = [
    ...program.argv.map((arg) => `a${arg}`),
    ...program.env.map((entry) => `e${entry}`),
    ...program.startupFiles.map((file) => `f${file}`),
  ];
  for (const line of lines) {
    if (line.includes("\n") || line.includes("\0")) throw new Error(`standby program entry ${JSON.stringify(line)} holds a line break or NUL`);
  }
  return `${STANDBY_ENV}=${lines.join("\n")}`;
}
