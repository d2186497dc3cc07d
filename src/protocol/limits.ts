// The execution limits, defined once. Config `defaults.*` and `server.limits.*`, the request
// schema, the server's policy clamp and the CLI flags are all derived from this table, so a
// limit has the same bounds, default and meaning everywhere.
import * as v from "valibot";
import { parseSize, type Size, SizeSchema } from "./sizes";

interface LimitDefinition<T> {
  /** Valid values, with the highest value a server may ever allow. */
  schema: v.GenericSchema<T, T>;
  /** The built-in default (config `defaults.<name>`). */
  default: T;
  /** The `isol8 run` flag that sets it. */
  flag: string;
  /** One line for help texts and the config's JSON Schema. */
  description: string;
  /** The value as a number to compare against a maximum (bytes for sizes). */
  magnitude(value: T): number;
  /** Reads the flag's text (sizes and numbers are both written as text on a command line). */
  fromFlag(text: string): T | undefined;
}

const number = (text: string): number | undefined => {
  const n = Number(text);
  return text.trim() !== "" && Number.isFinite(n) ? n : undefined;
};

const integerLimit = (max: number, fields: Omit<LimitDefinition<number>, "schema" | "magnitude" | "fromFlag">) =>
  ({
    ...fields,
    schema: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(max)),
    magnitude: (value: number) => value,
    fromFlag: number,
  }) satisfies LimitDefinition<number>;

const sizeLimit = (max: Size, fields: Omit<LimitDefinition<Size>, "schema" | "magnitude" | "fromFlag">) => {
  const maxBytes = parseSize(max)!;
  return {
    ...fields,
    schema: v.pipe(
      SizeSchema,
      // An invalid size is reported once, by SizeSchema; only a valid one is compared.
      v.check((value) => (parseSize(value) ?? 0) <= maxBytes, `must be at most ${String(max)}`),
    ) as v.GenericSchema<Size, Size>,
    magnitude: (value: Size) => parseSize(value) ?? Infinity,
    fromFlag: (text: string) => text,
  } satisfies LimitDefinition<Size>;
};

/** Every execution limit: name → schema (with its absolute bounds), default, CLI flag. */
export const LIMITS = {
  timeoutMs: integerLimit(24 * 60 * 60 * 1000, {
    default: 30_000,
    flag: "timeout",
    description: "Wall-clock limit for the whole execution, in milliseconds",
  }),
  memoryLimit: sizeLimit("1024g", {
    default: "512m",
    flag: "memory",
    description: 'Memory limit, swap included (e.g. "512m")',
  }),
  cpuLimit: {
    schema: v.pipe(v.number(), v.minValue(0.01), v.maxValue(1024)),
    default: 1,
    flag: "cpu",
    description: "CPU limit in cores (e.g. 0.5)",
    magnitude: (value: number) => value,
    fromFlag: number,
  } satisfies LimitDefinition<number>,
  pidsLimit: integerLimit(4_194_304, {
    default: 64,
    flag: "pids-limit",
    description: "Most processes and threads at once",
  }),
  sandboxSize: sizeLimit("1024g", {
    default: "512m",
    flag: "sandbox-size",
    description: 'Size of the /sandbox tmpfs (e.g. "512m")',
  }),
  tmpSize: sizeLimit("1024g", {
    default: "256m",
    flag: "tmp-size",
    description: 'Size of the /tmp tmpfs (e.g. "256m")',
  }),
  maxOutputSize: sizeLimit("1g", {
    default: 1_048_576,
    flag: "max-output",
    description: 'Output cap per stream, in bytes or a size (e.g. "1m")',
  }),
  // Output files (outputPaths): how many, how large each, how large together.
  maxOutputFiles: integerLimit(10_000, {
    default: 64,
    flag: "max-output-files",
    description: "Most output paths read back per execution (spellings of one path count once); more is refused before the run",
  }),
  maxOutputFileSize: sizeLimit("1g", {
    default: "64m",
    flag: "max-output-file-size",
    description: 'Largest output file read back (e.g. "64m"); a larger one is reported in fileErrors',
  }),
  maxOutputFilesTotal: sizeLimit("4g", {
    default: "128m",
    flag: "max-output-files-total",
    description: 'Output files read back per execution together (e.g. "128m"); the ones that no longer fit are reported in fileErrors',
  }),
};

export type LimitName = keyof typeof LIMITS;
export type LimitValues = { [K in LimitName]: (typeof LIMITS)[K]["default"] };
export const LIMIT_NAMES = Object.keys(LIMITS) as [LimitName, ...LimitName[]];

type ValueOf<K extends LimitName> = LimitValues[K];
type Schema<K extends LimitName> = v.GenericSchema<ValueOf<K>, ValueOf<K>>;

/** A limit's schema with its description (which the config's JSON Schema shows). */
function described(name: LimitName): v.GenericSchema {
  const limit = LIMITS[name] as LimitDefinition<unknown>;
  return v.pipe(limit.schema, v.description(limit.description));
}

/** `{ timeoutMs?: ..., memoryLimit?: ... }`: the limits a request (or a server's maxima) may state. */
export function optionalLimitEntries(): { [K in LimitName]: v.OptionalSchema<Schema<K>, undefined> } {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [name, v.optional(described(name))])) as never;
}

/** The same entries with the built-in defaults filled in (config `defaults.*`). */
export function defaultedLimitEntries(): { [K in LimitName]: v.OptionalSchema<Schema<K>, ValueOf<K>> } {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [name, v.optional(described(name), LIMITS[name].default)])) as never;
}

/**
 * The first limit in `values` above its maximum in `maxima` (each compared by magnitude:
 * bytes for sizes), or null when all are within. Pure; the server turns a hit into a 403.
 */
export function limitAboveMaximum(
  values: Partial<Record<LimitName, unknown>>,
  maxima: LimitValues,
): { name: LimitName; value: unknown; max: unknown } | null {
  for (const name of LIMIT_NAMES) {
    const value = values[name];
    if (value === undefined) continue;
    const limit = LIMITS[name] as LimitDefinition<unknown>;
    if (limit.magnitude(value) > limit.magnitude(maxima[name])) return { name, value, max: maxima[name] };
  }
  return null;
}
