/**
 * What is masked: the one definition every masking path uses (output streams, network log).
 *
 * For each secret value, the byte strings that give it away:
 * - the value itself (UTF-8), at any length;
 * - its URL-encoded forms, at any length (they mask like the value does): every byte outside
 *   a kept set written as `%XX` (upper-case hex), for three kept sets — RFC 3986 unreserved
 *   characters (`A-Z a-z 0-9 - . _ ~`), those plus `/` (Python's `quote`), and those plus
 *   `! * ' ( )` (JavaScript's `encodeURIComponent`) — each with `%20` or `+` for a space;
 * - its hex encoding, lower and upper case;
 * - its base64 encoding, standard (`+/`) and URL-safe (`-_`) alphabets, at each of the three
 *   alignments the value can have inside a longer base64 text: only the characters that the
 *   value's bytes alone determine (the "core"); and, when the value ends the encoded data, the
 *   core followed by its last character, with and without `=` padding.
 *
 * Hex and base64 forms are kept only when they carry at least {@link MIN_ENCODED_BITS} bits
 * of the value (8 hex digits, 6 base64 characters): shorter ones recur by chance in unrelated
 * hex or base64 text and would mask it.
 */
export const MIN_ENCODED_BITS = 32;

/** The distinct byte strings to replace for these secrets (empty values are ignored). */
export function secretNeedles(secrets: readonly string[]): Buffer[] {
  const forms = new Map<string, Buffer>();
  const add = (needle: Buffer) => forms.set(needle.toString("latin1"), needle);
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const bytes = Buffer.from(secret, "utf8");
    add(bytes);
    for (const form of urlEncodedForms(bytes)) add(Buffer.from(form, "latin1"));
    for (const form of [...hexForms(bytes), ...base64Forms(bytes)]) add(Buffer.from(form, "latin1"));
  }
  return [...forms.values()];
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const KEPT_SETS: readonly RegExp[] = [UNRESERVED, /[A-Za-z0-9\-._~/]/, /[A-Za-z0-9\-._~!*'()]/];

/** Percent-encodings of the bytes (see the module comment). */
export function urlEncodedForms(bytes: Buffer): string[] {
  const forms = new Set<string>();
  for (const kept of KEPT_SETS) {
    for (const space of ["%20", "+"]) {
      let out = "";
      for (const byte of bytes) {
        const char = String.fromCharCode(byte);
        if (byte < 0x80 && kept.test(char)) out += char;
        else if (byte === 0x20) out += space;
        else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }
      forms.add(out);
    }
  }
  return [...forms];
}

/** Hex, lower and upper case, when long enough. */
export function hexForms(bytes: Buffer): string[] {
  const lower = bytes.toString("hex");
  return lower.length * 4 >= MIN_ENCODED_BITS ? [lower, lower.toUpperCase()] : [];
}

/**
 * Base64 forms of the bytes at each alignment (0, 1 or 2 bytes before them in their
 * 3-byte group), standard and URL-safe, when the core is long enough.
 */
export function base64Forms(bytes: Buffer): string[] {
  const forms = new Set<string>();
  for (const alignment of [0, 1, 2]) {
    const { core, atEnd } = base64Core(bytes, alignment);
    if (core.length * 6 < MIN_ENCODED_BITS) continue;
    for (const form of atEnd === core ? [core] : [core, atEnd, atEnd.replace(/=+$/, "")]) {
      forms.add(form);
      forms.add(form.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return [...forms];
}

/**
 * The standard-alphabet base64 characters the bytes alone determine when `alignment` bytes
 * precede them in their group (`core`), and the tail written when they end the data
 * (`atEnd`: the core, then the partial last character and `=` padding, if any).
 */
export function base64Core(bytes: Buffer, alignment: number): { core: string; atEnd: string } {
  const bitsStart = 8 * alignment;
  const bitsEnd = 8 * (alignment + bytes.length);
  const first = Math.ceil(bitsStart / 6);
  const last = Math.floor(bitsEnd / 6); // exclusive: characters [first, last) hold only these bits
  const lead = Buffer.alloc(alignment);
  // Filler bytes after the value only touch characters at or beyond `last`.
  const inside = Buffer.concat([lead, bytes, Buffer.alloc(2)]).toString("base64");
  const core = last > first ? inside.slice(first, last) : "";
  const atEnd = Buffer.concat([lead, bytes]).toString("base64").slice(first);
  return { core, atEnd };
}
