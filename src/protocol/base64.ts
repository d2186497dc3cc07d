// Base64 checked in one linear pass. valibot's v.base64() is a regular expression that JSC
// gives up on for strings of a few megabytes (a valid 6 MB upload was refused as "must be
// base64") and that costs ~150 ms per megabyte below that.
import * as v from "valibot";

const ALPHABET = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") ALPHABET[c.charCodeAt(0)] = 1;
const PAD = "=".charCodeAt(0);

/** Standard base64 (RFC 4648 §4) with padding: a length that is a multiple of 4, at most two `=` at the end. */
export function isBase64(value: string): boolean {
  const length = value.length;
  if (length % 4 !== 0) return false;
  let end = length;
  if (end > 0 && value.charCodeAt(end - 1) === PAD) end--;
  if (end > 0 && value.charCodeAt(end - 1) === PAD) end--;
  for (let i = 0; i < end; i++) {
    const code = value.charCodeAt(i);
    if (code >= 128 || ALPHABET[code] === 0) return false;
  }
  return true;
}

/** Bytes a valid base64 string decodes to (without decoding it). */
export function base64DecodedLength(value: string): number {
  const padding = value.endsWith("==") ? 2 : value.endsWith("=") ? 1 : 0;
  return (value.length / 4) * 3 - padding;
}

/** A string that is base64 (see isBase64). */
export const Base64Schema = v.pipe(v.string(), v.check(isBase64, "must be base64"));
