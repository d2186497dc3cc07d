// The arguments of each MCP tool: valibot schemas built from the protocol's own (the execution
// request, the cell request, the file API's path), with descriptions written for models. The
// tools validate with them; tool-schemas.ts turns them into the JSON Schemas clients see.
import * as v from "valibot";
import { CONTEXT_RUNTIMES, RunCellRequestSchema } from "../protocol/context";
import { ExecutionRequestSchema } from "../protocol/execution";
import { Base64Schema } from "../protocol/base64";
import { FilePathSchema } from "../protocol/http";
import { REQUEST_CAPS } from "../protocol/request-caps";
import { RUNTIME_NAMES } from "../runtimes/registry";

const request = ExecutionRequestSchema.entries;

/** A schema with a description for the model (kept by the JSON Schema conversion). */
const described = <T extends v.GenericSchema>(schema: T, text: string) => v.pipe(schema, v.description(text));

const SANDBOX_NOTE =
  "Each runtime has its own sandbox in this session: files under /sandbox persist between calls of the same runtime " +
  "(run_code, run_cell, write_file, read_file, list_files) until the session ends.";

const runtime = described(v.optional(v.picklist(RUNTIME_NAMES)), `Which runtime's sandbox: ${RUNTIME_NAMES.join(", ")} (default python). ${SANDBOX_NOTE}`);

/** File contents as a model writes them: text, or `{ base64 }` for bytes. */
const fileContent = v.union([v.string(), v.strictObject({ base64: Base64Schema })]);

export const RunCodeInputSchema = v.strictObject({
  runtime: described(v.optional(v.picklist(RUNTIME_NAMES)), `Language to run: ${RUNTIME_NAMES.join(", ")} (default python)`),
  code: described(request.code, "The program's source code, run as a file (main.py, main.js, ...) in /sandbox"),
  stdin: described(v.optional(v.string()), "Text given to the program's standard input (closed after it)"),
  args: described(request.args, "Command-line arguments (sys.argv[1:], process.argv.slice(2), $@)"),
  timeoutMs: described(request.timeoutMs, "Time limit in milliseconds (the program is killed at it; default: the server's)"),
  files: described(
    v.optional(v.pipe(v.record(v.string(), fileContent), v.check((files) => Object.keys(files).length <= REQUEST_CAPS.files, `at most ${REQUEST_CAPS.files} entries`))),
    "Files written under /sandbox before the run: path -> text, or { base64 } for binary content",
  ),
  network: described(
    request.network,
    'Network access: "none" (default: no network at all) or "filtered" (only the hosts the policy allows, through a filtering proxy). ' +
      "A runtime's sandbox keeps the network mode of its first run.",
  ),
  allow: described(request.allow, 'With network "filtered": host name patterns the program may reach (when the policy lets clients choose)'),
  installPackages: described(request.installPackages, "Packages installed (pip, npm, ...) into /sandbox before the program runs (when the policy allows installs)"),
});
export type RunCodeInput = v.InferOutput<typeof RunCodeInputSchema>;

export const RunCellInputSchema = v.strictObject({
  runtime: described(
    v.optional(v.picklist(CONTEXT_RUNTIMES)),
    `Interpreter: ${CONTEXT_RUNTIMES.join(", ")} (default python). One interpreter per runtime, started on first use. ${SANDBOX_NOTE}`,
  ),
  code: described(RunCellRequestSchema.entries.code, "Code to run in the interpreter; the value of a trailing expression is returned (like a notebook cell)"),
  timeoutMs: described(RunCellRequestSchema.entries.timeoutMs, "Time limit in milliseconds: the cell is interrupted at it (its state is kept when the interpreter recovers)"),
});
export type RunCellInput = v.InferOutput<typeof RunCellInputSchema>;

export const ResetContextInputSchema = v.strictObject({
  runtime: described(v.optional(v.picklist(CONTEXT_RUNTIMES)), "The interpreter to restart (default python)"),
});
export type ResetContextInput = v.InferOutput<typeof ResetContextInputSchema>;

const path = described(FilePathSchema, "A path under /sandbox (relative paths are relative to /sandbox)");

export const WriteFileInputSchema = v.strictObject({
  path,
  content: described(v.string(), "The file's content: text, or base64 with encoding \"base64\""),
  encoding: described(v.optional(v.picklist(["utf8", "base64"])), 'How content is written: "utf8" text (default) or "base64" for binary'),
  runtime,
});
export type WriteFileInput = v.InferOutput<typeof WriteFileInputSchema>;

export const ReadFileInputSchema = v.strictObject({
  path,
  encoding: described(
    v.optional(v.picklist(["utf8", "base64"])),
    'How the content comes back: "utf8" text, or "base64"; default: text when the file is valid UTF-8, else base64',
  ),
  runtime,
});
export type ReadFileInput = v.InferOutput<typeof ReadFileInputSchema>;

export const ListFilesInputSchema = v.strictObject({ runtime });
export type ListFilesInput = v.InferOutput<typeof ListFilesInputSchema>;

export const ListRuntimesInputSchema = v.strictObject({});
