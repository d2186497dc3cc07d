// Caps on the counts and sizes of every list and map of an execution request, so that no
// request (library, CLI or HTTP) can make isol8 hold an unbounded number of entries. The
// strings themselves are bounded by their own rules (paths, package names, patterns) or, over
// HTTP, by server.maxBodySize. Pure: schemas in execution.ts use these; README lists them.
import * as v from "valibot";

export const REQUEST_CAPS = {
  /** `env`: entries, and UTF-8 bytes of names plus values. */
  envEntries: 1000,
  envBytes: 512 * 1024,
  /** `secrets`: entries, UTF-8 bytes of names plus values, and the shortest value. */
  secretEntries: 100,
  secretBytes: 64 * 1024,
  /** A shorter secret would mask ordinary output (`{"B":"the"}` turned "other" into "o***r"). */
  secretMinBytes: 4,
  /** Linux refuses one `NAME=value` string of 128 KiB or more (MAX_ARG_STRLEN). */
  envEntryBytes: 128 * 1024 - 1,
  /** `args`: entries, and UTF-8 bytes together (each counted with its terminating NUL). */
  args: 1000,
  argsBytes: 256 * 1024,
  files: 1000,
  outputPaths: 256,
  installPackages: 100,
  /** `allow` and `deny` each. */
  hostPatterns: 64,
  /** `metadata` as JSON. */
  metadataBytes: 16 * 1024,
} as const;

export const utf8Bytes = (value: string): number => Buffer.byteLength(value, "utf8");

/** Bytes of a record's names and values (UTF-8). */
function recordBytes(record: Record<string, string>): number {
  let total = 0;
  for (const [name, value] of Object.entries(record)) total += utf8Bytes(name) + utf8Bytes(value);
  return total;
}

const kib = (bytes: number) => `${bytes / 1024} KiB`;

/**
 * An environment record of at most `entries` entries whose names and values total at most
 * `bytes`, each `NAME=value` under Linux's limit for one string.
 */
export function cappedEnvRecord<T extends v.GenericSchema<Record<string, string>>>(schema: T, entries: number, bytes: number) {
  return v.pipe(
    schema,
    v.check((record) => Object.keys(record).length <= entries, `at most ${entries} entries`),
    v.check((record) => recordBytes(record) <= bytes, `at most ${kib(bytes)} of names and values`),
    v.check(
      (record) => Object.entries(record).every(([name, value]) => utf8Bytes(name) + 1 + utf8Bytes(value) <= REQUEST_CAPS.envEntryBytes),
      "each NAME=value must be under 128 KiB",
    ),
  );
}

/** `metadata`: JSON data (no cycles, functions or bigints) of at most REQUEST_CAPS.metadataBytes. */
export function isSmallJson(value: unknown): boolean {
  try {
    const text = JSON.stringify(value);
    return text !== undefined && utf8Bytes(text) <= REQUEST_CAPS.metadataBytes;
  } catch {
    return false;
  }
}

export const METADATA_MESSAGE = `must be JSON data of at most ${kib(REQUEST_CAPS.metadataBytes)}`;
