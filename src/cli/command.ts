// Every isol8 command runs through this wrapper: flags (the one parser, unknown flags
// refused) → configuration (--config or ISOL8_CONFIG, trusted; else ~/.isol8/config.json with
// ./isol8.config.json merged over it, which may not loosen the sandbox: see config/load.ts) →
// the command's own work → its exit code. Errors become one line and an exit code in main.ts.
import { type ArgsDef, type CommandDef, type CommandMeta, defineCommand } from "citty";
import { loadConfig } from "../config/load";
import type { Isol8Config } from "../config/schema";
import { type FlagValue, parseArgv } from "./argv";
import { stderrLogger } from "./log";

type ValueOf<D> = D extends { type: "boolean" } ? boolean | undefined : string | undefined;

/** Flag values typed by their definition: repeatable flags are lists. */
export type Flags<A extends ArgsDef, R extends string> = { [K in keyof A]: K extends R ? string[] : ValueOf<A[K]> };

export interface CommandContext<A extends ArgsDef, R extends string> {
  flags: Flags<A, R>;
  positionals: string[];
  /** Arguments after `--`. */
  rest: string[];
  rawArgs: string[];
  /** The resolved configuration (commands that set `config: false` get the defaults' type but no file is read). */
  config: Isol8Config;
  /** The most specific file the configuration came from, or null for the built-in defaults. */
  configSource: string | null;
  /** Every file merged, lowest precedence first. */
  configSources: string[];
  /** Engine and server log lines: on stderr with --debug, dropped otherwise. */
  debugLog: ((line: string) => void) | undefined;
}

export interface Isol8CommandDef<A extends ArgsDef, R extends string> {
  meta: CommandMeta;
  args: A;
  /** Flags that may be given several times (each value is kept, in order). */
  repeatable?: readonly R[];
  /** Read the configuration before running (default true). */
  config?: boolean;
  run(context: CommandContext<A, R>): Promise<number> | number;
}

/** `--config <file>`: every command that reads the configuration accepts it. */
export const configFileArgs = {
  config: {
    type: "string",
    description: "Configuration file to use, trusted as your own (default: $ISOL8_CONFIG, else ~/.isol8/config.json + ./isol8.config.json)",
  },
} as const satisfies ArgsDef;

/** A citty command whose run goes through isol8's parser and config loading. */
export function defineIsol8Command<const A extends ArgsDef, const R extends string = never>(def: Isol8CommandDef<A, R>): CommandDef<A> {
  const name = def.meta.name ?? "";
  const readsConfig = def.config !== false;
  const args = (readsConfig ? { ...def.args, ...configFileArgs } : def.args) as A;
  return defineCommand({
    meta: def.meta,
    args,
    async run({ rawArgs }) {
      const { flags, positionals, rest } = parseArgv(rawArgs, args, String(name), def.repeatable ?? []);
      for (const flag of def.repeatable ?? []) flags[flag] ??= [] as FlagValue;
      const file = (flags.config as string | undefined) || process.env.ISOL8_CONFIG || undefined;
      const loaded = readsConfig ? loadConfig(file ? { file } : {}) : { config: undefined, source: null, sources: [] };
      return def.run({
        flags: flags as Flags<A, R>,
        positionals,
        rest,
        rawArgs,
        config: loaded.config as Isol8Config,
        configSource: loaded.source,
        configSources: loaded.sources,
        // --debug, or `debug: true` in the config (--no-debug turns it off for one command).
        debugLog: (flags.debug ?? loaded.config?.debug) ? await stderrLogger() : undefined,
      });
    },
  });
}
