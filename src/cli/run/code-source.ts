import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, extname } from "node:path";
import { UsageError } from "../../errors";
import type { RuntimeRegistry } from "../../runtimes/registry";
import type { Runtime } from "../../runtimes/registry";
import type { InputSource } from "../std-streams";

export interface CodeSource {
  code: string;
  runtime: Runtime;
  fileExtension: string;
  /** The program file's name in /sandbox: the file's own name when it can be one (default: main<ext>). */
  programFile?: string;
  /** The code was read from standard input. */
  fromStdin: boolean;
}

export interface CodeSourceInput {
  file?: string;
  evalCode?: string;
  runtime?: string;
  stdin: InputSource;
  runtimes: RuntimeRegistry;
}

/** A name the request's programFile accepts (see protocol/execution.ts). */
const PROGRAM_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * Where the program comes from: a file argument, `-e`, or standard input when neither
 * is given and stdin is not a terminal. The runtime comes from `-r`, else the file's
 * extension, else python.
 */
export function resolveCodeSource(input: CodeSourceInput): CodeSource {
  const { file, evalCode, runtimes } = input;
  if (file !== undefined && evalCode !== undefined) {
    throw new UsageError("Cannot run both a file and -e code", "pass one of them");
  }
  if (input.runtime !== undefined && !runtimes.has(input.runtime)) {
    throw new UsageError(`Cannot use --runtime "${input.runtime}": unknown runtime`, `expected ${runtimes.all.map((r) => r.name).join(" | ")}`);
  }
  const chosen = input.runtime !== undefined ? runtimes.get(input.runtime) : undefined;
  if (file !== undefined) {
    if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`File not found: ${file}`);
    const runtime = chosen ?? runtimes.detect(file);
    const ext = extname(file).toLowerCase();
    const name = basename(file);
    const fileExtension = runtime.extensions.includes(ext) ? ext : runtime.defaultExtension;
    return {
      code: readFileSync(file, "utf8"),
      runtime,
      fileExtension,
      // Tracebacks then name the user's file; a name that cannot be one keeps main<ext>.
      ...(PROGRAM_FILE_NAME.test(name) && extname(name) === fileExtension ? { programFile: name } : {}),
      fromStdin: false,
    };
  }
  const runtime = chosen ?? runtimes.get("python");
  if (evalCode !== undefined) return { code: evalCode, runtime, fileExtension: runtime.defaultExtension, fromStdin: false };
  if (input.stdin.isTTY) {
    throw new UsageError("Cannot run: no code given", 'pass a file, -e "code", or pipe code on standard input');
  }
  return { code: input.stdin.readAll().toString("utf8"), runtime, fileExtension: runtime.defaultExtension, fromStdin: true };
}
