import { createMasker } from "./masker";
import { secretNeedles } from "./secret-needles";

export interface OutputStreamOptions {
  /** Secret values: each is masked with its derived forms (see `secretNeedles`). */
  secrets: readonly string[];
  /** Cap in UTF-8 bytes of the text passed on. */
  maxBytes: number;
  /** Receives text as soon as it is safe to pass on (masked, whole characters only). */
  onText?: (text: string) => void;
  /** Keep everything passed on, for the collected result. */
  collect?: boolean;
}

/**
 * One output stream of an execution: raw bytes in; masked, UTF-8-safe, byte-capped text out.
 * Order: mask, then decode, then cap, so a secret at the cap is never half shown and a
 * multibyte character is never cut.
 */
/** How much of the end of a stream `tail` keeps. */
const TAIL_CHARS = 16 * 1024;

export class OutputStream {
  private lastText = "";
  private readonly masker;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });
  private readonly parts: string[] = [];
  private emitted = 0;
  private done = false;
  truncated = false;

  constructor(private readonly options: OutputStreamOptions) {
    this.masker = createMasker(secretNeedles(options.secrets));
  }

  push(raw: Buffer): void {
    if (this.done) return;
    this.emit(this.decoder.decode(this.masker.push(raw), { stream: true }));
  }

  /** Ends the stream. `truncatedUpstream`: the producer was cut off at the cap. */
  end(truncatedUpstream: boolean): void {
    if (this.done) return;
    if (truncatedUpstream) {
      // Whatever is held back is the start of a secret or of a character: drop it.
      this.emit(this.decoder.decode(this.masker.flush(true), { stream: true }));
      this.truncated = true;
    } else {
      this.emit(this.decoder.decode(this.masker.flush(false), { stream: true }));
      this.emit(this.decoder.decode());
    }
    this.done = true;
  }

  get text(): string {
    return this.parts.join("");
  }

  get bytes(): number {
    return this.emitted;
  }

  /** The last few KiB passed on, kept in every mode (a runtime's fatal message is at the end). */
  get tail(): string {
    return this.lastText;
  }

  private emit(text: string): void {
    if (!text || this.done) return;
    const room = this.options.maxBytes - this.emitted;
    let out = text;
    let size = Buffer.byteLength(text, "utf8");
    if (size > room) {
      const buf = Buffer.from(text, "utf8");
      let cut = Math.max(0, room);
      while (cut > 0 && (buf[cut]! & 0xc0) === 0x80) cut--;
      out = buf.subarray(0, cut).toString("utf8");
      size = cut;
      this.truncated = true;
      this.done = true;
    }
    if (!out) return;
    this.emitted += size;
    this.lastText = (this.lastText + out).slice(-TAIL_CHARS);
    if (this.options.collect) this.parts.push(out);
    this.options.onText?.(out);
  }
}
