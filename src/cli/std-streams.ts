// isol8's own standard streams, written and read through their file descriptors.
// A write is one write(2) per piece and is complete when the call returns: nothing is left in
// a buffer when the process exits, and a reader that went away (`isol8 run ... | head`) ends
// the writing quietly instead of a broken-pipe error per chunk. A piped stdin is read to its
// end with read(2), without creating Node's stdin stream (1.5-3 ms in the binary on the way
// to the local daemon). Long-running commands (serve, mcp, repl) and APIs that need a stream
// object (readline, the MCP transport, consola) use Node's streams through `nodeStream`, which
// records them: the CLI flushes what was opened before it exits (see main.ts).
import { fstatSync, readSync, writeSync } from "node:fs";

/** The system calls the descriptors need (a fake in tests). */
export interface DescriptorIo {
  write(fd: number, bytes: Uint8Array, offset: number): number;
  read(fd: number, into: Uint8Array): number;
  isTTY(fd: number): boolean;
  /** Blocks for `ms` (a descriptor another process left non-blocking said EAGAIN). */
  wait(ms: number): void;
}

/** Where the CLI writes text: standard output or standard error. */
export interface OutputSink {
  readonly isTTY: boolean;
  /** The terminal's width in columns (only asked on a terminal). */
  readonly columns: number | undefined;
  write(data: string | Uint8Array): void;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Whether `fd` is a terminal, without loading node:tty (about 2.5 ms in the binary). */
function isTerminal(fd: number): boolean {
  try {
    return Boolean((process as unknown as { binding(name: string): { isTTY(fd: number): boolean } }).binding("tty_wrap").isTTY(fd));
  } catch {
    return require("node:tty").isatty(fd) as boolean;
  }
}

export const systemIo: DescriptorIo = {
  write: (fd, bytes, offset) => writeSync(fd, bytes, offset),
  read: (fd, into) => readSync(fd, into, 0, into.length, null),
  isTTY: isTerminal,
  wait: (ms) => void Atomics.wait(pause, 0, 0, ms),
};

const codeOf = (error: unknown) => (error as { code?: string }).code;

/** One system call, made again after a short wait while it says EAGAIN (a descriptor another process left non-blocking). */
function retryingEagain<T>(io: DescriptorIo, call: () => T): T {
  for (;;) {
    try {
      return call();
    } catch (error) {
      if (codeOf(error) !== "EAGAIN") throw error;
      io.wait(1);
    }
  }
}

/**
 * A sink writing every piece completely before it returns. A reader that went away (EPIPE,
 * as with `| head`) ends the writing silently; a descriptor left non-blocking is waited for.
 */
export function descriptorSink(fd: number, io: DescriptorIo = systemIo, columns: () => number | undefined = () => undefined): OutputSink {
  let tty: boolean | undefined;
  let closed = false;
  return {
    get isTTY() {
      tty ??= io.isTTY(fd);
      return tty;
    },
    get columns() {
      return columns();
    },
    write(data) {
      if (closed) return;
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      let offset = 0;
      while (offset < bytes.length) {
        try {
          offset += retryingEagain(io, () => io.write(fd, bytes, offset));
        } catch (error) {
          if (codeOf(error) !== "EPIPE") throw error;
          closed = true;
          return;
        }
      }
    },
  };
}

/** Everything left on `fd` up to its end (a pipe, a file or a socket). */
export function readToEnd(fd: number, io: DescriptorIo = systemIo): Buffer {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    const n = retryingEagain(io, () => io.read(fd, chunk));
    if (n === 0) return Buffer.concat(chunks);
    chunks.push(chunk.subarray(0, n));
  }
}

/** isol8's standard input as `isol8 run` reads it. */
export interface InputSource {
  readonly isTTY: boolean;
  /** A pipe, a file or a socket (never a terminal, /dev/null or a closed descriptor). */
  readonly hasData: boolean;
  /** Everything up to its end. */
  readAll(): Buffer;
}

/** Standard input through descriptor 0. */
export function standardInput(io: DescriptorIo = systemIo): InputSource {
  return {
    get isTTY() {
      return io.isTTY(0);
    },
    get hasData() {
      try {
        const stat = fstatSync(0);
        return stat.isFIFO() || stat.isFile() || stat.isSocket();
      } catch {
        return false; // closed
      }
    },
    readAll: () => readToEnd(0, io),
  };
}

let out: OutputSink | undefined;
let err: OutputSink | undefined;

/** isol8's standard output. */
export function standardOutput(): OutputSink {
  out ??= descriptorSink(1, systemIo, () => nodeStream("stdout").columns);
  return out;
}

/** isol8's standard error. */
export function standardError(): OutputSink {
  err ??= descriptorSink(2, systemIo, () => nodeStream("stderr").columns);
  return err;
}

type StreamName = "stdin" | "stdout" | "stderr";
const opened = new Set<"stdout" | "stderr">();

/** Node's stream, for an API that needs one (readline, the MCP transport); recorded for `flushOpenedStreams`. */
export function nodeStream(name: "stdin"): NodeJS.ReadStream;
export function nodeStream(name: "stdout" | "stderr"): NodeJS.WriteStream;
export function nodeStream(name: StreamName): NodeJS.ReadStream | NodeJS.WriteStream {
  if (name !== "stdin") opened.add(name);
  return process[name];
}

/** Ends the stream and resolves once everything written to it has been flushed. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.once("error", () => resolve());
    stream.end(() => resolve());
  });
}

/**
 * Flushes the Node streams that were opened: piped output must be complete before the process
 * ends (a write callback alone is not enough: Bun reports it before a pipe has taken the data).
 */
export async function flushOpenedStreams(): Promise<void> {
  await Promise.all([...opened].map((name) => flushed(process[name])));
}
