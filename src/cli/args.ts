import type { ArgsDef } from "citty";
import { UsageError } from "../errors";

/** A repeatable string flag as a list (citty gives a string once, an array when repeated). */
export function listOf(value: unknown): string[] {
  if (value === undefined || value === null || value === false) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/**
 * Every value of a repeatable string flag, in order, read from the raw arguments (citty
 * keeps only the last one): `--name v`, `--name=v`, and `-a v` for an alias.
 */
export function repeatedFlag(rawArgs: readonly string[], name: string, alias?: string): string[] {
  const values: string[] = [];
  const long = `--${name}`;
  const short = alias ? `-${alias}` : undefined;
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if (arg.startsWith(`${long}=`)) values.push(arg.slice(long.length + 1));
    else if (short && arg.startsWith(`${short}=`)) values.push(arg.slice(short.length + 1));
    else if ((arg === long || arg === short) && i + 1 < rawArgs.length) values.push(rawArgs[++i]!);
  }
  return values;
}

/** Parses repeated `KEY=VALUE` flags; a malformed one is a usage error naming the flag. */
export function keyValues(flag: string, values: unknown): Record<string, string> | undefined {
  const list = listOf(values);
  if (list.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    const key = eq > 0 ? item.slice(0, eq) : "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new UsageError(`Cannot use --${flag} "${item}": expected KEY=VALUE`, `e.g. --${flag} TOKEN=abc`);
    }
    out[key] = item.slice(eq + 1);
  }
  return out;
}

/** A numeric flag; a non-number is a usage error. */
export function numberFlag(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value === "boolean" || String(value).trim() === "" || !Number.isFinite(n)) {
    throw new UsageError(`Cannot use --${flag} "${String(value)}": expected a number`);
  }
  return n;
}

/**
 * Refuses flags the command does not define (citty accepts anything). `--no-x` is
 * accepted for boolean flags `x`.
 */
export function rejectUnknownFlags(rawArgs: readonly string[], args: ArgsDef, command: string): void {
  const known = new Set<string>();
  for (const [name, def] of Object.entries(args)) {
    known.add(name);
    known.add(name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
    for (const alias of [("alias" in def ? def.alias : undefined) ?? []].flat()) known.add(alias);
    if (def.type === "boolean") {
      known.add(`no-${name}`);
      known.add(`no-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    }
  }
  const takesValue = new Set<string>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type !== "string") continue;
    takesValue.add(`--${name}`);
    for (const alias of [("alias" in def ? def.alias : undefined) ?? []].flat()) takesValue.add(`-${alias}`);
  }
  for (let i = 0; i < rawArgs.length; i++) {
    const raw = rawArgs[i]!;
    if (raw === "--") break;
    if (takesValue.has(raw)) {
      i++; // its value may start with "-": it is data, not a flag
      continue;
    }
    if (!raw.startsWith("-") || raw === "-") continue;
    const name = raw.replace(/^--?/, "").split("=")[0]!;
    const names = raw.startsWith("--") ? [name] : name.split("");
    for (const n of names) {
      if (!known.has(n)) throw new UsageError(`Cannot run "isol8 ${command}": unknown flag "${raw}"`, `see isol8 ${command} --help`);
    }
  }
}
