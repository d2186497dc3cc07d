import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { ConfigError } from "../errors";
import { formatIssues } from "../protocol/issues";
import { deepMerge } from "./merge";
import { ConfigSchema, type Isol8Config, type Isol8ConfigInput } from "./schema";

export interface LoadedConfig {
  config: Isol8Config;
  /** The file the values came from, or null for the built-in defaults. */
  source: string | null;
}

export interface LoadConfigOptions {
  /** Directory searched for `isol8.config.json` (default: the process's cwd). */
  cwd?: string;
  /** Home directory searched for `.isol8/config.json` (default: the user's home). */
  home?: string;
  /** An explicit file, searched before the others (the CLI passes `ISOL8_CONFIG`). */
  file?: string;
  /** Values merged over the file (for programmatic callers). */
  overrides?: Isol8ConfigInput;
}

/** The files searched, first match wins. */
export function configCandidates(options: LoadConfigOptions = {}): string[] {
  const cwd = options.cwd ?? process.cwd();
  const home = options.home ?? homedir();
  const files = [join(cwd, "isol8.config.json"), join(home, ".isol8", "config.json")];
  return options.file ? [resolve(cwd, options.file), ...files] : files;
}

/**
 * Loads the configuration: the first of `./isol8.config.json`, `~/.isol8/config.json`
 * (after an explicit `file`) deep-merged over the built-in defaults and validated.
 * Throws ConfigError with one `path: message` line per problem.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const candidates = configCandidates(options);
  if (options.file && !existsSync(candidates[0]!)) {
    throw new ConfigError(`Cannot load config "${candidates[0]}": file not found`);
  }
  const source = candidates.find((file) => existsSync(file)) ?? null;
  let document: unknown = {};
  if (source) {
    let text: string;
    try {
      text = readFileSync(source, "utf8");
    } catch (error) {
      throw new ConfigError(`Cannot read config "${source}": ${(error as Error).message}`);
    }
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`Cannot load config "${source}": invalid JSON: ${(error as Error).message}`);
    }
  }
  return { config: parseConfig(deepMerge(document, options.overrides), source ?? "(defaults)"), source };
}

/** Validates a config document (every key optional) and fills in the defaults. */
export function parseConfig(document: unknown, origin = "(inline)"): Isol8Config {
  const result = v.safeParse(ConfigSchema, document);
  if (!result.success) {
    const lines = formatIssues(result.issues);
    throw new ConfigError(`Cannot load config "${origin}":\n  ${lines.join("\n  ")}`);
  }
  return result.output;
}
