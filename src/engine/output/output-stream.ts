import { isUtf8 } from "node:buffer";
import { createMasker } from "./masker";
import { secretNeedles } from "./secret-needles";

export interface OutputStreamOptions {
  /** Secret values: each is masked with its derived forms (see `secretNeedles`). */
  secrets: readonly string[];
  /** Cap in bytes of the output passed on. */
  maxBytes: number;
  /**
   * Receives output as soon as it is safe to pass on (masked, whole characters only): its text,
   * and its exact bytes when they are not valid UTF-8 (the text then has U+FFFD for them).
   */
  onText?: (text: string, bytes?: Buffer) => void;
  /** Keep everything passed on, for the collected result. */
  collect?: boolean;
}

/** How much of the end of a stream `tail` keeps. */
const TAIL_CHARS = 16 * 1024;

/** Bytes of the UTF-8 sequence a lead byte starts (0 for a byte that starts none). */
function sequenceLength(byte: number): number {
  if (byte >= 0xc2 && byte <= 0xdf) return 2;
  if (byte >= 0xe0 && byte <= 0xef) return 3;
  if (byte >= 0xf0 && byte <= 0xf4) return 4;
  return 0;
}

const isContinuation = (byte: number) => (byte & 0xc0) === 0x80;

/**
 * Where a character that would be cut at `end` starts (so the cut can move there and drop it
 * whole), or `end` when no character is cut there. Looks back at most 3 bytes: bytes that are
 * not UTF-8 are cut anywhere.
 */
function characterBoundary(data: Buffer, end: number): number {
  for (let at = end - 1; at >= 0 && at >= end - 3; at--) {
    const byte = data[at]!;
    if (isContinuation(byte)) continue;
    return sequenceLength(byte) > end - at ? at : end;
  }
  return end;
}

/**
 * One output stream of an execution: raw bytes in; masked, byte-capped output out, as text
 * and, where the bytes are not valid UTF-8, as the exact bytes too.
 * Order: mask, then hold back an incomplete trailing character, then cap, so a secret at the
 * cap is never half shown and a multibyte character is never cut.
 */
export class OutputStream {
  private lastText = "";
  private readonly masker;
  /** The start of a character whose other bytes have not arrived yet. */
  private pending: Buffer = Buffer.alloc(0);
  private readonly parts: Buffer[] = [];
  private emitted = 0;
  private done = false;
  private valid = true;
  truncated = false;

  constructor(private readonly options: OutputStreamOptions) {
    this.masker = createMasker(secretNeedles(options.secrets));
  }

  push(raw: Buffer): void {
    if (this.done) return;
    const masked = this.masker.push(raw);
    const data = this.pending.length ? Buffer.concat([this.pending, masked]) : masked;
    const boundary = characterBoundary(data, data.length);
    this.pending = Buffer.from(data.subarray(boundary));
    this.emit(data.subarray(0, boundary));
  }

  /** Ends the stream. `truncatedUpstream`: the producer was cut off at the cap. */
  end(truncatedUpstream: boolean): void {
    if (this.done) return;
    // Cut off: whatever is held back is the start of a secret or of a character: dropped.
    const rest = this.masker.flush(truncatedUpstream);
    const data = Buffer.concat([this.pending, rest]);
    this.pending = Buffer.alloc(0);
    this.emit(truncatedUpstream ? data.subarray(0, characterBoundary(data, data.length)) : data);
    if (truncatedUpstream) this.truncated = true;
    this.done = true;
  }

  /** The output passed on, as text (bad UTF-8 as U+FFFD). */
  get text(): string {
    return this.parts.map((part) => part.toString("utf8")).join("");
  }

  /** The exact bytes passed on when they are not valid UTF-8; null when `text` is exact. */
  get exactBytes(): Buffer | null {
    return this.valid ? null : Buffer.concat(this.parts);
  }

  get bytes(): number {
    return this.emitted;
  }

  /** The last few KiB passed on, kept in every mode (a runtime's fatal message is at the end). */
  get tail(): string {
    return this.lastText;
  }

  private emit(data: Buffer): void {
    if (!data.length || this.done) return;
    const room = this.options.maxBytes - this.emitted;
    let out = data;
    if (data.length > room) {
      out = data.subarray(0, characterBoundary(data, Math.max(0, room)));
      this.truncated = true;
      this.done = true;
    }
    if (!out.length) return;
    this.emitted += out.length;
    const exact = isUtf8(out);
    if (!exact) this.valid = false;
    const text = out.toString("utf8");
    this.lastText = (this.lastText + text).slice(-TAIL_CHARS);
    if (this.options.collect) this.parts.push(Buffer.from(out));
    this.options.onText?.(text, exact ? undefined : Buffer.from(out));
  }
}
