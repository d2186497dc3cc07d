/**
 * Where a request body ends. The proxy forwards exactly one request per connection, so it
 * must know the end of the body: bytes after it (a pipelined or smuggled second request)
 * are dropped, never passed to the upstream. Chunked bodies are re-chunked on the way
 * (sizes rewritten, extensions and trailers dropped), so the upstream reads the same
 * framing the proxy did, whatever leniency either side has.
 */
import type { BodyFraming } from "./proxy-request";

export type FramerResult = { body: Buffer; done: boolean } | { error: string };

export interface BodyFramer {
  /** The part of the chunk (re-encoded) that belongs to the body, and whether the body has ended. */
  push(chunk: Buffer): FramerResult;
  readonly done: boolean;
}

const MAX_LINE = 4096;
const LF = 0x0a;
const CR = 0x0d;

export function createBodyFramer(framing: BodyFraming): BodyFramer {
  if (framing.type === "chunked") return createChunkedFramer();
  let remaining = framing.type === "length" ? framing.length : 0;
  return {
    get done() {
      return remaining === 0;
    },
    push(chunk) {
      const body = chunk.subarray(0, Math.min(remaining, chunk.length));
      remaining -= body.length;
      return { body, done: remaining === 0 };
    },
  };
}

type State = "size" | "data" | "data-end" | "trailer" | "done";

function createChunkedFramer(): BodyFramer {
  let state: State = "size";
  let line: number[] = [];
  let remaining = 0;

  /** Collects one line; returns it (without CR LF) when complete. */
  const takeLine = (byte: number): string | null | { error: string } => {
    if (byte !== LF) {
      if (line.length >= MAX_LINE) return { error: "chunk line too long" };
      line.push(byte);
      return null;
    }
    if (line[line.length - 1] === CR) line.pop();
    const text = Buffer.from(line).toString("latin1");
    line = [];
    return text;
  };

  return {
    get done() {
      return state === "done";
    },
    push(chunk) {
      const out: Buffer[] = [];
      let i = 0;
      while (i < chunk.length && state !== "done") {
        if (state === "data") {
          const take = Math.min(remaining, chunk.length - i);
          out.push(chunk.subarray(i, i + take));
          remaining -= take;
          i += take;
          if (remaining === 0) state = "data-end";
          continue;
        }
        const text = takeLine(chunk[i++]!);
        if (text === null) continue;
        if (typeof text !== "string") return text;
        if (state === "size") {
          const match = /^([0-9A-Fa-f]{1,13})[ \t]*(?:;[^\r\n]*)?$/.exec(text);
          if (!match) return { error: "malformed chunk size" };
          remaining = Number.parseInt(match[1]!, 16);
          out.push(Buffer.from(`${remaining.toString(16)}\r\n`, "latin1"));
          state = remaining === 0 ? "trailer" : "data";
        } else if (state === "data-end") {
          if (text !== "") return { error: "malformed chunk end" };
          out.push(Buffer.from("\r\n", "latin1"));
          state = "size";
        } else if (text === "") {
          out.push(Buffer.from("\r\n", "latin1")); // end of (dropped) trailers
          state = "done";
        }
      }
      return { body: Buffer.concat(out), done: state === "done" };
    },
  };
}
