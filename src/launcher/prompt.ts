import { readSync } from "node:fs";
import { isatty } from "node:tty";

/** A person is at the terminal: stdin and stderr are both TTYs (stdout may be piped). */
export function isInteractive(): boolean {
  return isatty(0) && isatty(2);
}

/** Where confirm writes the question and reads the answer (a test passes its own). */
export interface PromptIO {
  write: (text: string) => void;
  /** One line of input without its newline; undefined at end of input. */
  readLine: () => string | undefined;
}

/** Asks a yes/no question, default no: only `y` or `yes` (any case) is a yes. */
export function confirm(question: string, io: PromptIO = { write: (text) => void process.stderr.write(text), readLine: readLineSync }): boolean {
  io.write(`${question} [y/N] `);
  return isYes(io.readLine());
}

/** Whether an answer to a [y/N] question is a yes. */
export function isYes(answer: string | undefined): boolean {
  return /^\s*y(?:es)?\s*$/i.test(answer ?? "");
}

/**
 * Reads one line from fd 0 synchronously. The launcher never opens `process.stdin`: a
 * stream reading the terminal would go on taking keystrokes meant for isol8 after it starts.
 */
function readLineSync(): string | undefined {
  const buffer = Buffer.alloc(256);
  let line = "";
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buffer, 0, buffer.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        continue;
      }
      return line || undefined;
    }
    if (n === 0) return line || undefined;
    line += buffer.toString("utf8", 0, n);
    const end = line.indexOf("\n");
    if (end !== -1) return line.slice(0, end).replace(/\r$/, "");
  }
}
