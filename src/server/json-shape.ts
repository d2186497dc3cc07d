// A request body's shape, measured before JSON.parse: parsing is itself the memory cost (a
// 16 MB body of a million `"Kn":""` entries became half a gigabyte of objects), so bodies with
// too many values or too deep a nesting are refused from their bytes, in one linear pass.

export interface JsonShapeLimits {
  /** Most values: each `{`, `[`, `:` and `,` outside strings counts one. */
  maxValues: number;
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
}

/** What the server accepts: far above what any request within the request caps needs. */
export const JSON_SHAPE_LIMITS: JsonShapeLimits = { maxValues: 100_000, maxDepth: 64 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * Why a JSON text is refused for its shape, or null. Counts structural characters outside
 * strings (escapes inside strings are skipped); it does not validate JSON: JSON.parse does.
 */
export function jsonShapeProblem(bytes: Uint8Array, limits: JsonShapeLimits = JSON_SHAPE_LIMITS): string | null {
  let values = 0;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    switch (byte) {
      case QUOTE:
        inString = true;
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (++depth > limits.maxDepth) return `nested more than ${limits.maxDepth} levels deep`;
        if (++values > limits.maxValues) return tooMany(limits);
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        depth--;
        break;
      case COLON:
      case COMMA:
        if (++values > limits.maxValues) return tooMany(limits);
        break;
    }
  }
  return null;
}

const tooMany = (limits: JsonShapeLimits) => `more than ${limits.maxValues} JSON values (lists and maps of a request are capped far below)`;
