// What `isol8 run` gives the program besides its code: standard input and arguments.
import { existsSync, readFileSync, statSync } from "node:fs";
import { UsageError } from "../../errors";
import type { InputSource } from "../std-streams";

export interface ProgramStdinInput {
  /** `--stdin <data>`. */
  text?: string;
  /** `--stdin-file <path>`. */
  file?: string;
  /** The code itself came from standard input (then it is not the program's too). */
  codeFromStdin: boolean;
  /** isol8's own standard input, read when it carries data (a pipe, a file, a socket). */
  stdin: InputSource;
}

/**
 * The program's standard input: `--stdin`, else `--stdin-file`, else isol8's own standard
 * input when it is piped and did not carry the code (exact bytes), else none.
 */
export function programStdin(input: ProgramStdinInput): string | Uint8Array | undefined {
  if (input.text !== undefined && input.file !== undefined) {
    throw new UsageError("Cannot use --stdin and --stdin-file together", "pass one of them");
  }
  if (input.text !== undefined) return input.text;
  if (input.file !== undefined) {
    if (!existsSync(input.file) || statSync(input.file).isDirectory()) throw new UsageError(`Cannot use --stdin-file "${input.file}": file not found`);
    return readFileSync(input.file);
  }
  if (input.codeFromStdin || !input.stdin.hasData) return undefined;
  const data = input.stdin.readAll();
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
