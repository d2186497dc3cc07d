const MASK = Buffer.from("***");

/**
 * Streaming masker for one output stream: replaces every needle (see `secretNeedles` for
 * what a secret's needles are) with `***`. Bytes are passed on as soon as they cannot be the
 * start of a needle; a needle split across writes or chunks is still replaced, because a
 * suffix that could begin one is held back until it is decided.
 */
export interface Masker {
  /** Masks a chunk; returns what can be passed on now. */
  push(chunk: Buffer): Buffer;
  /** Returns what was held back. With `dropPartial`, a held-back needle prefix is dropped. */
  flush(dropPartial?: boolean): Buffer;
}

export function createMasker(needleList: readonly Buffer[]): Masker {
  const needles = needleList.filter((n) => n.length > 0).sort((a, b) => b.length - a.length);
  if (needles.length === 0) return { push: (chunk) => chunk, flush: () => Buffer.alloc(0) };
  const longest = needles[0]!.length;
  /** Bytes that begin some needle: a tail starting with any other byte is decided at once. */
  const starts = new Uint8Array(256);
  for (const needle of needles) starts[needle[0]!] = 1;
  let held: Buffer = Buffer.alloc(0);

  /**
   * Earliest whole match at or after `from`: leftmost, then longest. `found[i]` caches where
   * needle i next occurs in `data` (-1: nowhere), so each needle scans the data about once.
   */
  const nextMatch = (data: Buffer, from: number, found: Int32Array): { at: number; len: number } | null => {
    let best: { at: number; len: number } | null = null;
    for (let i = 0; i < needles.length; i++) {
      let at = found[i]!;
      if (at !== -1 && at < from) found[i] = at = data.indexOf(needles[i]!, from);
      if (at !== -1 && (!best || at < best.at)) best = { at, len: needles[i]!.length };
    }
    return best;
  };

  /**
   * Earliest position at or after `from` where the rest of the data is a proper prefix
   * of a needle longer than that rest: undecided until more bytes arrive.
   */
  const undecidedFrom = (data: Buffer, from: number): number => {
    for (let at = Math.max(from, data.length - (longest - 1)); at < data.length; at++) {
      if (!starts[data[at]!]) continue;
      const rest = data.length - at;
      if (needles.some((n) => n.length > rest && data.compare(n, 0, rest, at) === 0)) return at;
    }
    return -1;
  };

  /** Masks data; with `final`, nothing is held back. Returns [output, held]. */
  const process = (data: Buffer, final: boolean): [Buffer, Buffer] => {
    const parts: Buffer[] = [];
    const found = new Int32Array(needles.length).fill(-2);
    let open = final ? -1 : undecidedFrom(data, 0);
    let from = 0;
    for (;;) {
      const match = nextMatch(data, from, found);
      // A match may have covered where the undecided tail began: look again behind it.
      if (open !== -1 && open < from) open = undecidedFrom(data, from);
      // A longer needle may still be completing where (or before) a shorter one matched: wait.
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
      // Cut off: whole needles are still masked, a trailing needle prefix is dropped.
      const open = undecidedFrom(data, 0);
      return process(open === -1 ? data : data.subarray(0, open), true)[0];
    },
  };
}
