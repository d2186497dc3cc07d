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
  const longest = needles[0]!.length;
  let held: Buffer = Buffer.alloc(0);

  /** Earliest whole match at or after `from`: leftmost, then longest. */
  const nextMatch = (data: Buffer, from: number): { at: number; len: number } | null => {
    let best: { at: number; len: number } | null = null;
    for (const needle of needles) {
      const at = data.indexOf(needle, from);
      if (at !== -1 && (!best || at < best.at)) best = { at, len: needle.length };
    }
    return best;
  };

  /**
   * Earliest position at or after `from` where the rest of the data is a proper prefix
   * of a secret longer than that rest: undecided until more bytes arrive.
   */
  const undecidedFrom = (data: Buffer, from: number): number => {
    for (let at = Math.max(from, data.length - (longest - 1)); at < data.length; at++) {
      const rest = data.subarray(at);
      if (needles.some((n) => n.length > rest.length && n.subarray(0, rest.length).equals(rest))) return at;
    }
    return -1;
  };

  /** Masks data; with `final`, nothing is held back. Returns [output, held]. */
  const process = (data: Buffer, final: boolean): [Buffer, Buffer] => {
    const parts: Buffer[] = [];
    let from = 0;
    for (;;) {
      const match = nextMatch(data, from);
      const open = final ? -1 : undecidedFrom(data, from);
      // A longer secret may still be completing where (or before) a shorter one matched: wait.
      if (open !== -1 && (!match || open <= match.at)) {
        parts.push(data.subarray(from, open));
        return [Buffer.concat(parts), Buffer.from(data.subarray(open))];
      }
      if (!match) break;
      parts.push(data.subarray(from, match.at), MASK);
      from = match.at + match.len;
    }
    parts.push(data.subarray(from));
    return [Buffer.concat(parts), Buffer.alloc(0)];
  };

  return {
    push(chunk) {
      const [out, rest] = process(held.length ? Buffer.concat([held, chunk]) : chunk, false);
      held = rest;
      return out;
    },
    flush(dropPartial = false) {
      const data = held;
      held = Buffer.alloc(0);
      if (!dropPartial) return process(data, true)[0];
      // Cut off: whole secrets are still masked, a trailing secret prefix is dropped.
      const open = undecidedFrom(data, 0);
      return process(open === -1 ? data : data.subarray(0, open), true)[0];
    },
  };
}
