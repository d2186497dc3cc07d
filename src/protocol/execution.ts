// One execution as every interface speaks it: the request (validated with valibot at every
// boundary), the result, and the events of a streamed run. Types and schemas only.
import * as v from "valibot";
import { RUNTIME_NAMES, type RuntimeName } from "../runtimes/registry";
import { formatIssues } from "./issues";
import { optionalLimitEntries } from "./limits";
import { Base64Schema } from "./base64";
import { cappedEnvRecord, isSmallJson, METADATA_MESSAGE, REQUEST_CAPS, utf8Bytes } from "./request-caps";
import { RequestError } from "../errors";
import type { Artifact } from "./context";

export type { RuntimeName };

export const NETWORK_MODES = ["none", "filtered", "host"] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export const SECCOMP_MODES = ["strict", "unconfined", "custom"] as const;
export type SeccompMode = (typeof SECCOMP_MODES)[number];

/**
 * The container runtime around the sandbox: `runc` (Linux namespaces, cgroups, seccomp on the
 * host kernel) or `gvisor` (the same, inside gVisor's user-space kernel: a second boundary).
 */
export const ISOLATION_RUNTIMES = ["runc", "gvisor"] as const;
export type IsolationRuntime = (typeof ISOLATION_RUNTIMES)[number];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = v.pipe(v.string(), v.regex(ENV_NAME, "must be a valid environment variable name"));
const envValue = v.pipe(v.string(), v.check((s) => !s.includes("\0"), "must not contain NUL bytes"));
const envRecord = cappedEnvRecord(v.record(envName, envValue), REQUEST_CAPS.envEntries, REQUEST_CAPS.envBytes);
const secretRecord = cappedEnvRecord(
  v.record(
    envName,
    v.pipe(
      envValue,
      v.check(
        (s) => utf8Bytes(s) >= REQUEST_CAPS.secretMinBytes,
        `must be at least ${REQUEST_CAPS.secretMinBytes} bytes: a shorter secret would mask ordinary output`,
      ),
    ),
  ),
  REQUEST_CAPS.secretEntries,
  REQUEST_CAPS.secretBytes,
);
/** Bytes as a request carries them: text (UTF-8), bytes, or `{ base64 }` (for JSON callers). */
const bytesLike = v.union([
  v.string(),
  v.instance(Uint8Array as new () => Uint8Array<ArrayBufferLike>),
  v.strictObject({ base64: Base64Schema }),
]);
/** A list of at most `count` items. */
const listOf = <T extends v.GenericSchema>(item: T, count: number) => v.pipe(v.array(item), v.maxLength(count, `at most ${count} entries`));
const hostPatterns = listOf(v.pipe(v.string(), v.minLength(1), v.maxLength(256)), REQUEST_CAPS.hostPatterns);

/** The schema every execution request is validated against (library, CLI and HTTP). */
export const ExecutionRequestSchema = v.strictObject({
  /** The program's source code. */
  code: v.string(),
  /** Runtime; default `python`. */
  runtime: v.optional(v.picklist(RUNTIME_NAMES)),
  /** Extension of the program file, e.g. `.cjs` to run Node code as CommonJS. */
  fileExtension: v.optional(v.pipe(v.string(), v.regex(/^\.[A-Za-z0-9]{1,10}$/, 'must look like ".mjs"'))),
  /**
   * Name of the program file in /sandbox (default `main` plus the extension, e.g. `main.py`):
   * what tracebacks and `sys.argv[0]` show. Its extension, when it has one of the runtime's,
   * sets `fileExtension`.
   */
  programFile: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, "must be a file name of 1-128 characters of A-Z a-z 0-9 . _ - (not starting with . or -)"),
    ),
  ),
  /** Arguments passed to the program after its file (`sys.argv[1:]`, `process.argv.slice(2)`, `$@`). */
  args: v.optional(
    v.pipe(
      listOf(v.pipe(v.string(), v.check((s) => !s.includes("\0"), "must not contain NUL bytes")), REQUEST_CAPS.args),
      v.check((args) => args.reduce((sum, arg) => sum + utf8Bytes(arg) + 1, 0) <= REQUEST_CAPS.argsBytes, `at most ${REQUEST_CAPS.argsBytes / 1024} KiB together`),
      v.check((args) => args.every((arg) => utf8Bytes(arg) < REQUEST_CAPS.envEntryBytes), "each must be under 128 KiB"),
    ),
  ),
  /**
   * Limits (see protocol/limits.ts): timeoutMs, memoryLimit, cpuLimit, pidsLimit, sandboxSize,
   * tmpSize, maxOutputSize, maxOutputFiles, maxOutputFileSize, maxOutputFilesTotal.
   */
  ...optionalLimitEntries(),
  network: v.optional(v.picklist(NETWORK_MODES)),
  /** A custom image (must contain the isol8 supervisor, i.e. be built FROM an isol8 image). */
  image: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** Environment variables for the program. */
  env: v.optional(envRecord),
  /** Environment variables whose values are masked as `***` in all output (each at least 4 bytes). */
  secrets: v.optional(secretRecord),
  /** Data for the program's standard input (closed after it): text, bytes, or `{ base64 }`. */
  stdin: v.optional(bytesLike),
  /** Files written under /sandbox before the run: path -> text, bytes, or `{ base64 }` (for JSON callers). */
  files: v.optional(
    v.pipe(
      v.record(v.string(), bytesLike),
      v.check((files) => Object.keys(files).length <= REQUEST_CAPS.files, `at most ${REQUEST_CAPS.files} entries`),
    ),
  ),
  /**
   * Files read back after the run (base64 in `files` of the result). Spellings of one path
   * (`a`, `./a`, `/sandbox//a`) are read once, under the first spelling. Bounded by
   * maxOutputFiles (more is a RequestError), maxOutputFileSize and maxOutputFilesTotal (a
   * file over them is listed in `missingFiles` and `fileErrors`).
   */
  outputPaths: v.optional(listOf(v.string(), REQUEST_CAPS.outputPaths)),
  /**
   * Packages installed (into /sandbox, as the sandbox user) before the program runs, within
   * the same timeout. Needs a network: without one set, the execution uses `filtered` with the
   * runtime's package registry allowed.
   */
  installPackages: v.optional(listOf(v.pipe(v.string(), v.minLength(1), v.maxLength(214)), REQUEST_CAPS.installPackages)),
  /** Filtered mode: host name patterns (regular expressions, whole host) the program may reach. */
  allow: v.optional(hostPatterns),
  /** Filtered mode: host name patterns (matching anywhere in the host) refused even when allowed (deny wins). */
  deny: v.optional(hostPatterns),
  /** Filtered mode: return one log entry per request in `networkLogs`. */
  logNetwork: v.optional(v.boolean()),
  /**
   * Seccomp and isolation runtime for this execution (default: the config's `security`). A
   * custom profile must be readable; `runtime: "gvisor"` needs gVisor registered with Docker.
   */
  security: v.optional(
    v.strictObject({
      seccomp: v.optional(v.picklist(SECCOMP_MODES)),
      customProfilePath: v.optional(v.string()),
      runtime: v.optional(v.picklist(ISOLATION_RUNTIMES)),
    }),
  ),
  /** Free-form data recorded with the execution (audit). */
  metadata: v.optional(v.pipe(v.record(v.string(), v.unknown()), v.check<Record<string, unknown>, string>(isSmallJson, METADATA_MESSAGE))),
});

export type ExecutionRequest = v.InferInput<typeof ExecutionRequestSchema>;

/** Validates a request; throws one RequestError naming the first bad field. */
export function validateRequest(request: unknown): ExecutionRequest {
  const result = v.safeParse(ExecutionRequestSchema, request);
  if (!result.success) {
    const first = result.issues[0]!;
    const field = v.getDotPath(first) ?? "request";
    throw new RequestError(`Invalid request: ${formatIssues(result.issues).join("; ")}`, field);
  }
  return result.output;
}

/** Why the engine stopped a program, if it did. */
export type KillReason = "timeout" | "memory-limit" | "output-cap" | "pids-limit" | "aborted";

/** What one execution cost, measured inside its container for this execution only. */
export interface ResourceUsage {
  /** CPU time (user + system) of every process of the execution, in ms. */
  cpuTimeMs: number;
  /** Peak resident memory of the largest process of the execution, in bytes. */
  peakMemoryBytes: number;
  /** Bytes the program wrote to stdout / stderr (before capping). */
  stdoutBytes: number;
  stderrBytes: number;
  /** Bytes through the network proxy (filtered mode); null without a network to count. */
  networkBytesIn: number | null;
  networkBytesOut: number | null;
  killReason: KillReason | null;
}

/** One request the program made through the filtering proxy (secret values masked). */
export interface NetworkLogEntry {
  /** When the request was read (ISO 8601). */
  timestamp: string;
  method: string;
  /** Canonical host (lower-case, punycode), masked. */
  host: string;
  port: number;
  /** Origin-form path with query, masked; null for CONNECT. */
  path: string | null;
  /** ALLOW: the policy let it through (the upstream may still have failed, see `status`). */
  action: "ALLOW" | "BLOCK";
  /** Why it was refused or failed (one line, masked). */
  reason?: string;
  /** The status the client got: the upstream's, 200 for an established tunnel, or the proxy's own. */
  status: number | null;
  durationMs: number;
  /** Bytes from the upstream toward the sandbox. */
  bytesIn: number;
  /** Bytes from the sandbox toward the upstream (the forwarded head included). */
  bytesOut: number;
}

/** The steps of an execution, in order; `timeoutMs` is the budget for all of them together. */
export const PHASES = ["queue", "acquire", "install", "run", "collect"] as const;
export type Phase = (typeof PHASES)[number];

/** Milliseconds spent in each phase: waiting for a slot, getting a container, installing, running, reading files back. */
export interface PhaseTimings {
  queueMs: number;
  acquireMs: number;
  installMs: number;
  runMs: number;
  collectMs: number;
}

/**
 * How the contents of output files come back: base64 text (the default; what JSON carries)
 * or bytes (no base64 copy in memory; a server streams them to its clients as base64).
 */
export type FileEncoding = "base64" | "bytes";
/** The type of an output file's content for an encoding. */
export type FileContent<E extends FileEncoding = "base64"> = E extends "bytes" ? Uint8Array : string;

/** Everything about an execution except its collected output (`F`: output file contents, base64 by default). */
export interface ExecutionSummary<F extends string | Uint8Array = string> {
  executionId: string;
  runtime: RuntimeName;
  /** Start time, ISO 8601. */
  timestamp: string;
  /** The program's exit code; 128 + signal when killed (137 after a timeout or OOM kill). */
  exitCode: number;
  /** The whole execution, from the request to the result (the sum of the phases, about). */
  durationMs: number;
  /** Where the time went (`timeoutMs` covers them all). */
  phases: PhaseTimings;
  /** Output was cut at maxOutputSize (the program was stopped there). */
  truncated: boolean;
  /** The time budget ran out (see `timeoutPhase` for where). */
  timedOut: boolean;
  /** With `timedOut`: the phase the execution was in when its budget ran out. */
  timeoutPhase?: Phase;
  oomKilled: boolean;
  containerId: string;
  /** outputPaths that were read back: path (as first spelled in the request) -> content (base64 unless bytes were asked for). */
  files?: Record<string, F>;
  /** outputPaths that were not read back: missing, unreadable, or over an output-file limit. */
  missingFiles?: string[];
  /** Why each path of `missingFiles` was not read back ("not found", "file is N bytes, over ... (maxOutputFileSize)"). */
  fileErrors?: Record<string, string>;
  resourceUsage: ResourceUsage;
  /** Filtered network with logNetwork: one entry per request the program made, in order. */
  networkLogs?: NetworkLogEntry[];
  /** In a session: files created or changed under /sandbox since its previous execution or cell. */
  artifacts?: Artifact[];
}

/**
 * The collected output. `stdout` and `stderr` are text: the program's bytes decoded as UTF-8.
 * When a stream is not valid UTF-8, the text has U+FFFD where the bad bytes were, and
 * `stdoutBase64` / `stderrBase64` carry the exact bytes (absent for valid UTF-8, so results of
 * text-writing programs look as they always did). `outputBytes(result, "stdout")` gives the
 * bytes either way.
 */
export interface ExecutionResult<F extends string | Uint8Array = string> extends ExecutionSummary<F> {
  stdout: string;
  stderr: string;
  stdoutBase64?: string;
  stderrBase64?: string;
}

/**
 * A piece of output as produced. `data` is text; `base64` (only when the piece is not valid
 * UTF-8) carries its exact bytes.
 */
export interface OutputEvent<T extends "stdout" | "stderr"> {
  type: T;
  data: string;
  base64?: string;
}

/** Events of a streamed execution, in order; `exit` or `error` is always last. */
export type StreamEvent<F extends string | Uint8Array = string> =
  | OutputEvent<"stdout">
  | OutputEvent<"stderr">
  | { type: "exit"; data: ExecutionSummary<F> }
  | { type: "error"; data: string };
