// What `isol8 run` gives the program besides its code: standard input and arguments.
import { existsSync, fstatSync, readFileSync, statSync } from "node:fs";
import { UsageError } from "../../errors";

/** Whether standard input carries data to read: a pipe, a file or a socket (never a terminal or /dev/null). */
export function stdinHasData(fd = 0): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() || stat.isFile() || stat.isSocket();
  } catch {
    return false; // closed
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

export interface ProgramStdinInput {
  /** `--stdin <data>`. */
  text?: string;
  /** `--stdin-file <path>`. */
  file?: string;
  /** The code itself came from standard input (then it is not the program's too). */
  codeFromStdin: boolean;
  /** isol8's own standard input, read when it is piped. */
  stdin: NodeJS.ReadableStream;
  /** Whether it is piped (default: fstat of fd 0). */
  piped?: boolean;
}

/**
 * The program's standard input: `--stdin`, else `--stdin-file`, else isol8's own standard
 * input when it is piped and did not carry the code (exact bytes), else none.
 */
export async function programStdin(input: ProgramStdinInput): Promise<string | Uint8Array | undefined> {
  if (input.text !== undefined && input.file !== undefined) {
    throw new UsageError("Cannot use --stdin and --stdin-file together", "pass one of them");
  }
  if (input.text !== undefined) return input.text;
  if (input.file !== undefined) {
    if (!existsSync(input.file) || statSync(input.file).isDirectory()) throw new UsageError(`Cannot use --stdin-file "${input.file}": file not found`);
    return readFileSync(input.file);
  }
  if (input.codeFromStdin || !(input.piped ?? stdinHasData())) return undefined;
  const data = await readAll(input.stdin);
  return data.length ? data : undefined;
}

/**
 * The program's arguments: those after `--`. Other words after the program file are refused
 * rather than dropped, with the spelling that passes them.
 */
export function programArgs(positionals: readonly string[], rest: readonly string[]): string[] | undefined {
  const [file, ...extra] = positionals;
  if (extra.length) {
    const shown = extra.join(" ");
    throw new UsageError(
      `Cannot run "${file}" with "${shown}": program arguments go after --`,
      `isol8 run ${file} -- ${shown}`,
    );
  }
  return rest.length ? [...rest] : undefined;
}
