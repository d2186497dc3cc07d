import { existsSync, readFileSync, statSync } from "node:fs";
import { extname } from "node:path";
import { UsageError } from "../../errors";
import type { RuntimeRegistry } from "../../runtimes/registry";
import type { Runtime } from "../../runtimes/registry";

export interface CodeSource {
  code: string;
  runtime: Runtime;
  fileExtension: string;
}

export interface CodeSourceInput {
  file?: string;
  evalCode?: string;
  runtime?: string;
  stdin: NodeJS.ReadStream;
  runtimes: RuntimeRegistry;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Where the program comes from: a file argument, `-e`, or standard input when neither
 * is given and stdin is not a terminal. The runtime comes from `-r`, else the file's
 * extension, else python.
 */
export async function resolveCodeSource(input: CodeSourceInput): Promise<CodeSource> {
  const { file, evalCode, runtimes } = input;
  if (file !== undefined && evalCode !== undefined) {
    throw new UsageError("Cannot run both a file and -e code", "pass one of them");
  }
  const chosen = input.runtime !== undefined ? runtimes.get(input.runtime) : undefined;
  if (file !== undefined) {
    if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`File not found: ${file}`);
    const runtime = chosen ?? runtimes.detect(file);
    const ext = extname(file).toLowerCase();
    return {
      code: readFileSync(file, "utf8"),
      runtime,
      fileExtension: runtime.extensions.includes(ext) ? ext : runtime.defaultExtension,
    };
  }
  const runtime = chosen ?? runtimes.get("python");
  if (evalCode !== undefined) return { code: evalCode, runtime, fileExtension: runtime.defaultExtension };
  if (input.stdin.isTTY) {
    throw new UsageError("Cannot run: no code given", 'pass a file, -e "code", or pipe code on standard input');
  }
  return { code: await readAll(input.stdin), runtime, fileExtension: runtime.defaultExtension };
}
