import * as v from "valibot";
import { formatIssues } from "../config/issues";
import { NETWORK_MODES, PositiveIntSchema, RUNTIME_NAMES, SizeSchema, type NetworkMode, type RuntimeName } from "../config/schema";
import { RequestError } from "../errors";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const size = SizeSchema;
const positiveInt = PositiveIntSchema;
const envRecord = v.record(
  v.pipe(v.string(), v.regex(ENV_NAME, "must be a valid environment variable name")),
  v.pipe(v.string(), v.check((s) => !s.includes("\0"), "must not contain NUL bytes")),
);

/** The schema every execution request is validated against (library, CLI and HTTP). */
export const ExecutionRequestSchema = v.strictObject({
  /** The program's source code. */
  code: v.string(),
  /** Runtime; default `python`. */
  runtime: v.optional(v.picklist(RUNTIME_NAMES)),
  /** Extension of the program file, e.g. `.cjs` to run Node code as CommonJS. */
  fileExtension: v.optional(v.pipe(v.string(), v.regex(/^\.[A-Za-z0-9]{1,10}$/, 'must look like ".mjs"'))),
  /** Wall-clock limit for the whole execution, in milliseconds. */
  timeoutMs: v.optional(positiveInt),
  memoryLimit: v.optional(size),
  cpuLimit: v.optional(v.pipe(v.number(), v.minValue(0.01), v.maxValue(1024))),
  pidsLimit: v.optional(positiveInt),
  sandboxSize: v.optional(size),
  tmpSize: v.optional(size),
  /** Cap per output stream, in bytes. */
  maxOutputSize: v.optional(size),
  network: v.optional(v.picklist(NETWORK_MODES)),
  /** A custom image (must contain the isol8 supervisor, i.e. be built FROM an isol8 image). */
  image: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** Environment variables for the program. */
  env: v.optional(envRecord),
  /** Environment variables whose values are masked as `***` in all output. */
  secrets: v.optional(envRecord),
  /** Data for the program's standard input (closed after it). */
  stdin: v.optional(v.string()),
  /** Files written under /sandbox before the run: path -> text, bytes, or `{ base64 }` (for JSON callers). */
  files: v.optional(
    v.record(
      v.string(),
      v.union([
        v.string(),
        v.instance(Uint8Array as new () => Uint8Array<ArrayBufferLike>),
        v.strictObject({ base64: v.pipe(v.string(), v.base64("must be base64")) }),
      ]),
    ),
  ),
  /** Files read back after the run (base64 in `files` of the result). */
  outputPaths: v.optional(v.array(v.string())),
  /**
   * Packages installed (into /sandbox, as the sandbox user) before the program runs, within
   * the same timeout. Needs a network: without one set, the execution uses `filtered` with the
   * runtime's package registry allowed.
   */
  installPackages: v.optional(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(214)))),
  /** Filtered mode: host name patterns (regular expressions, whole host) the program may reach. */
  allow: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(256))), v.maxLength(64))),
  /** Filtered mode: host name patterns (matching anywhere in the host) refused even when allowed (deny wins). */
  deny: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(256))), v.maxLength(64))),
  /** Filtered mode: return one log entry per request in `networkLogs`. */
  logNetwork: v.optional(v.boolean()),
  /** Seccomp for this execution (default: the config's `security`). A custom profile must be readable. */
  security: v.optional(
    v.strictObject({
      seccomp: v.picklist(["strict", "unconfined", "custom"]),
      customProfilePath: v.optional(v.string()),
    }),
  ),
  /** Free-form data recorded with the execution (audit). */
  metadata: v.optional(v.record(v.string(), v.unknown())),
});

export type ExecutionRequest = v.InferInput<typeof ExecutionRequestSchema>;

/** Validates a request; throws one RequestError naming the first bad field. */
export function validateRequest(request: unknown): ExecutionRequest {
  const result = v.safeParse(ExecutionRequestSchema, request);
  if (!result.success) {
    const first = result.issues[0]!;
    const field = v.getDotPath(first) ?? "request";
    const lines = formatIssues(result.issues);
    throw new RequestError(`Invalid request: ${lines.join("; ")}`, field);
  }
  return result.output;
}

export type { NetworkMode, RuntimeName };
