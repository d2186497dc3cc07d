import * as v from "valibot";

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i;
const UNIT: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A size as written by users: `"512m"`, `"1g"`, `"256k"`, `"1048576"` or a number of bytes. */
export type Size = string | number;

/** Parses a size into bytes; returns undefined when it is not a valid, positive size. */
export function parseSize(size: Size): number | undefined {
  if (typeof size === "number") return Number.isSafeInteger(size) && size > 0 ? size : undefined;
  const match = SIZE_PATTERN.exec(size.trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * (UNIT[(match[2] ?? "").toLowerCase()] ?? 1));
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Like parseSize, for values already validated by the schema. */
export function sizeToBytes(size: Size): number {
  const bytes = parseSize(size);
  if (bytes === undefined) throw new TypeError(`Invalid size ${JSON.stringify(size)}`);
  return bytes;
}

export function isSize(size: unknown): size is Size {
  return (typeof size === "string" || typeof size === "number") && parseSize(size) !== undefined;
}

export const SIZE_HINT = 'expected a size such as "512m", "1g", "256k" or a number of bytes';

/** A size (`512m`, `1g`, `256k` or bytes): the one schema for sizes in config, requests and flags. */
export const SizeSchema = v.pipe(
  v.union([v.string(), v.number()], SIZE_HINT),
  v.check((value) => isSize(value), SIZE_HINT),
) as v.GenericSchema<Size, Size>;
