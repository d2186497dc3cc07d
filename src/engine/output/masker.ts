const MASK = Buffer.from("***");

/**
 * Streaming secret masker for one output stream. Bytes are passed on as soon as they
 * cannot be the start of a secret; a secret split across writes or chunks is still
 * replaced, because a suffix that could begin one is held back until it is decided.
 */
export interface Masker {
  /** Masks a chunk; returns what can be passed on now. */
  push(chunk: Buffer): Buffer;
  /** Returns what was held back. With `dropPartial`, a held-back secret prefix is dropped. */
  flush(dropPartial?: boolean): Buffer;
}

export function createMasker(secrets: readonly string[]): Masker {
  const needles = [...new Set(secrets.filter((s) => s.length > 0))]
    .map((s) => Buffer.from(s, "utf8"))
    .sort((a, b) => b.length - a.length);
  if (needles.length === 0) return { push: (chunk) => chunk, flush: () => Buffer.alloc(0) };
  let held: Buffer = Buffer.alloc(0);

  const replaceAll = (data: Buffer): Buffer => {
    const parts: Buffer[] = [];
    let from = 0;
    for (;;) {
      let at = -1;
      let len = 0;
      for (const needle of needles) {
        const i = data.indexOf(needle, from);
        if (i !== -1 && (at === -1 || i < at)) {
          at = i;
          len = needle.length;
        }
      }
      if (at === -1) break;
      parts.push(data.subarray(from, at), MASK);
      from = at + len;
    }
    if (parts.length === 0) return data;
    parts.push(data.subarray(from));
    return Buffer.concat(parts);
  };

  /** Length of the longest suffix of data that is a proper prefix of some secret. */
  const partialSuffix = (data: Buffer): number => {
    const max = Math.min(data.length, needles[0]!.length - 1);
    for (let k = max; k > 0; k--) {
      const tail = data.subarray(data.length - k);
      if (needles.some((n) => n.length > k && n.subarray(0, k).equals(tail))) return k;
    }
    return 0;
  };

  return {
    push(chunk) {
      const joined = held.length ? Buffer.concat([held, chunk]) : chunk;
      // Replace whole secrets first; then hold back a suffix that may still grow into one.
      // A replacement never creates a new match (the mask is not a secret prefix), and the
      // held suffix is re-scanned together with the next chunk.
      const masked = replaceAll(joined);
      const keep = partialSuffix(masked);
      held = Buffer.from(masked.subarray(masked.length - keep));
      return masked.subarray(0, masked.length - keep);
    },
    flush(dropPartial = false) {
      const out = dropPartial ? Buffer.alloc(0) : held;
      held = Buffer.alloc(0);
      return out;
    },
  };
}
