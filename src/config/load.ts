// Where the configuration comes from, and which files are trusted.
//
//   an explicit file (--config, ISOL8_CONFIG, `file`)   → the configuration, over the defaults
//   otherwise: defaults ← ~/.isol8/config.json ← ./isol8.config.json (deep-merged, later wins)
//
// The user's own file and a file the user names are trusted: the user wrote or chose them. A
// file found in the working directory is not: it comes with whatever repository you cd into.
// It may change anything but the keys of sensitive-keys.ts, which it may only leave as they
// are or tighten; naming it explicitly (--config ./isol8.config.json) trusts it.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { ConfigError } from "../errors";
import { formatIssues } from "../protocol/issues";
import { deepMerge } from "./merge";
import { ConfigSchema, type Isol8Config, type Isol8ConfigInput } from "./schema";
import { looseningKeys } from "./sensitive-keys";

/**
 * What loadConfig() returns: the configuration itself (`loadConfig().maxConcurrent`, as in
 * isol8 0.x; pass it as `config` anywhere), with three more properties that are not enumerated
 * (so JSON.stringify and schema checks see only the configuration): `config`, the same values
 * as a plain object, `source`, the most specific file they came from, and `sources`, every
 * file merged (`const { config, source, sources } = loadConfig()`).
 */
export type LoadedConfig = Isol8Config & {
  readonly config: Isol8Config;
  /** The most specific file the values came from, or null for the built-in defaults. */
  readonly source: string | null;
  /** Every file merged, lowest precedence first (empty for the built-in defaults). */
  readonly sources: string[];
};

export interface LoadConfigOptions {
  /** Directory searched for `isol8.config.json` (default: the process's cwd). */
  cwd?: string;
  /** Home directory searched for `.isol8/config.json` (default: the user's home). */
  home?: string;
  /**
   * A file the user named (the CLI passes `--config`, else `ISOL8_CONFIG`): trusted, and the
   * whole configuration (no other file is read). Must exist.
   */
  file?: string;
  /** Values merged over the files (for programmatic callers; trusted). */
  overrides?: Isol8ConfigInput;
}

/** The project file and the user's file (searched when no explicit file is named). */
export function configCandidates(options: LoadConfigOptions = {}): { project: string; user: string } {
  return {
    project: join(options.cwd ?? process.cwd(), "isol8.config.json"),
    user: join(options.home ?? homedir(), ".isol8", "config.json"),
  };
}

/**
 * Loads the configuration (see the top of this file for the order and the trust rule),
 * validated, with the defaults filled in. Throws ConfigError with one `path: message` line
 * per problem, or naming each key a working-directory file may not loosen.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const files: { path: string; trusted: boolean }[] = [];
  if (options.file) {
    const path = resolve(options.cwd ?? process.cwd(), options.file);
    if (!existsSync(path)) throw new ConfigError(`Cannot load config "${path}": file not found`);
    files.push({ path, trusted: true });
  } else {
    const { project, user } = configCandidates(options);
    if (existsSync(user)) files.push({ path: user, trusted: true });
    if (existsSync(project)) files.push({ path: project, trusted: false });
  }
  let document: unknown = {};
  for (const file of files) {
    const own = readDocument(file.path);
    parseConfig(own, file.path); // valid on its own, so an error names the file that holds it
    const merged = deepMerge(document, own);
    if (!file.trusted) refuseLoosening(file.path, parseConfig(merged, file.path), parseConfig(document));
    document = merged;
  }
  const sources = files.map((file) => file.path);
  const config = parseConfig(deepMerge(document, options.overrides), sources.at(-1) ?? "(defaults)");
  return Object.defineProperties({ ...config }, { config: { value: config }, source: { value: sources.at(-1) ?? null }, sources: { value: sources } }) as LoadedConfig;
}

/** Throws ConfigError naming every key of an untrusted file that loosens the trusted config. */
function refuseLoosening(file: string, merged: Isol8Config, trusted: Isol8Config): void {
  const keys = looseningKeys(merged, trusted);
  if (keys.length === 0) return;
  const lines = keys.map((k) => `${k.key}: ${JSON.stringify(k.value)} (${k.reason})`);
  throw new ConfigError(
    `Cannot use config "${file}": it was found in the working directory, and these keys loosen the sandbox or run programs on the host:\n  ${lines.join("\n  ")}`,
    `if you trust this file, name it: --config ${file} (or ISOL8_CONFIG=${file}); or put these keys in ~/.isol8/config.json`,
  );
}

function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`Cannot read config "${file}": ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Cannot load config "${file}": invalid JSON: ${(error as Error).message}`);
  }
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
