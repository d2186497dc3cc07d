// The one parser of isol8's command lines. citty dispatches commands and renders help, but
// its parser keeps only the last value of a repeated flag (`--env A=1 --env B=2`) and
// accepts unknown flags; this one reads every command's flags from the same ArgsDef.
import type { ArgsDef } from "citty";
import { UsageError } from "../errors";

export type FlagValue = string | boolean | string[] | undefined;

export interface ParsedArgv {
  /** Flag values by the name in the ArgsDef: string, boolean, or every value of a repeatable flag. */
  flags: Record<string, FlagValue>;
  /** Arguments that are not flags, in order. */
  positionals: string[];
  /** Everything after `--`, verbatim (e.g. the program's own arguments). */
  rest: string[];
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const aliasesOf = (def: ArgsDef[string]) => [("alias" in def ? def.alias : undefined) ?? []].flat();

/**
 * Parses raw arguments against a command's ArgsDef. Long flags in kebab or camel case
 * (`--max-output 1k`, `--max-output=1k`), aliases (`-e code`, grouped booleans `-ve code`),
 * `--no-x` for booleans, and positionals by name (`--file x.py`). A string flag's value is
 * data even when it starts with `-`. Unknown flags and missing values are UsageErrors that
 * name the flag. Repeatable flags collect every value; others keep the last one.
 */
export function parseArgv(rawArgs: readonly string[], args: ArgsDef, command: string, repeatable: readonly string[] = []): ParsedArgv {
  const byName = new Map<string, string>();
  for (const [name, def] of Object.entries(args)) {
    for (const spelling of [name, kebab(name), camel(name)]) byName.set(spelling, name);
    for (const alias of aliasesOf(def)) byName.set(alias, name);
  }
  const unknown = (raw: string) => new UsageError(`Cannot run "isol8 ${command}": unknown flag "${raw}"`, `see isol8 ${command} --help`);
  const flags: Record<string, FlagValue> = {};
  const positionals: string[] = [];
  const set = (name: string, value: string | boolean) => {
    if (repeatable.includes(name)) flags[name] = [...((flags[name] as string[] | undefined) ?? []), String(value)];
    else flags[name] = value;
  };

  for (let i = 0; i < rawArgs.length; i++) {
    const raw = rawArgs[i]!;
    if (raw === "--") return { flags, positionals, rest: rawArgs.slice(i + 1) };
    if (!raw.startsWith("-") || raw === "-") {
      positionals.push(raw);
      continue;
    }
    const long = raw.startsWith("--");
    const body = raw.slice(long ? 2 : 1);
    const eq = body.indexOf("=");
    const key = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    // Grouped short booleans, the last one may take a value: `-ve code`.
    const names = long ? [key] : key.length > 1 && !byName.has(key) ? key.split("") : [key];
    for (const [n, spelling] of names.entries()) {
      let name = byName.get(spelling);
      let negated = false;
      if (!name && long && spelling.startsWith("no-")) {
        name = byName.get(spelling.slice(3));
        negated = true;
      }
      const def = name ? args[name] : undefined;
      if (!name || !def || (negated && def.type !== "boolean")) throw unknown(raw);
      if (def.type === "boolean") {
        if (inline !== undefined && !/^(true|false)$/.test(inline)) throw new UsageError(`Cannot use --${kebab(name)}=${inline}: it is a switch (true or false)`, "leave the value out");
        set(name, negated ? false : inline !== "false");
        continue;
      }
      if (n < names.length - 1) throw unknown(raw); // only the last of a group may take a value
      const value = inline ?? rawArgs[++i];
      if (value === undefined) throw new UsageError(`Cannot use --${kebab(name)}: it needs a value`, `see isol8 ${command} --help`);
      set(name, value);
    }
  }
  return { flags, positionals, rest: [] };
}
