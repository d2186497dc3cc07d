// JSON text produced piece by piece, so a result holding large output files is never in
// memory as one string: every Uint8Array is written as a base64 string, a slice at a time.
// The text equals JSON.stringify of the same value with the bytes replaced by their base64
// (and holds no raw line break, so it can be one SSE `data:` line). Pure.

/** Bytes encoded per base64 slice (a multiple of 3, so slices join without padding). */
const SLICE_BYTES = 48 * 1024;
/** Small fragments are merged into pieces of about this many characters. */
const PIECE_CHARS = 64 * 1024;

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Unmerged fragments of the JSON text of `value` (JSON.stringify's rules for what is left out). */
function* fragments(value: unknown): Generator<string> {
  if (value instanceof Uint8Array) {
    yield '"';
    for (let start = 0; start < value.length; start += SLICE_BYTES) yield base64(value.subarray(start, start + SLICE_BYTES));
    yield '"';
    return;
  }
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    yield* fragments((value as { toJSON(): unknown }).toJSON());
    return;
  }
  if (Array.isArray(value)) {
    yield "[";
    for (const [index, item] of value.entries()) {
      if (index > 0) yield ",";
      if (item === undefined || typeof item === "function" || typeof item === "symbol") yield "null";
      else yield* fragments(item);
    }
    yield "]";
    return;
  }
  if (value !== null && typeof value === "object") {
    yield "{";
    let first = true;
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
      yield `${first ? "" : ","}${JSON.stringify(key)}:`;
      first = false;
      yield* fragments(item);
    }
    yield "}";
    return;
  }
  yield JSON.stringify(value) ?? "null";
}

/**
 * The JSON text of `value` in pieces of about 64 K characters (small fragments merged), every
 * Uint8Array written as a base64 string 48 KiB of bytes at a time. Lazy: nothing is encoded
 * before the consumer asks for the next piece.
 */
export function* jsonChunks(value: unknown): Generator<string> {
  let pending = "";
  for (const fragment of fragments(value)) {
    pending += fragment;
    if (pending.length >= PIECE_CHARS) {
      yield pending;
      pending = "";
    }
  }
  if (pending) yield pending;
}
