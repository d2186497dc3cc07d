// `isol8 run` flags → the execution request. Pure: values are checked here so that every
// error names the flag the user typed (never a library field) and the accepted values.
import * as v from "valibot";
import { RequestError, UsageError } from "../../errors";
import { type ExecutionRequest, ISOLATION_RUNTIMES, NETWORK_MODES } from "../../protocol/execution";
import { LIMIT_NAMES, LIMITS } from "../../protocol/limits";

/** The flags of `isol8 run` that shape the request (values as typed; lists for repeatable flags). */
export interface RunRequestFlags {
  net?: string;
  /** The isolation runtime: runc | gvisor (the request's `security.runtime`). */
  isolation?: string;
  allow?: string[];
  deny?: string[];
  "log-network"?: boolean;
  install?: string[];
  image?: string;
  secret?: string[];
  env?: string[];
  "output-path"?: string[];
  /** Limit flags by their name in the limits table (`timeout`, `memory`, `max-output`, ...). */
  [limitFlag: string]: string | string[] | boolean | undefined;
}

/**
 * What the request runs, as the caller read it: the code and its runtime, the program file's
 * name, files from --files, standard input (--stdin, --stdin-file or a pipe) and the
 * program's arguments (after --).
 */
export interface RunSource {
  code: string;
  runtime: NonNullable<ExecutionRequest["runtime"]>;
  fileExtension: string;
  programFile?: string;
  files?: Record<string, Uint8Array>;
  stdin?: string | Uint8Array;
  args?: string[];
}

/** Parses repeated `KEY=VALUE` flags; a malformed one is a usage error naming the flag. */
export function keyValues(flag: string, items: readonly string[] | undefined): Record<string, string> | undefined {
  if (!items || items.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    const key = eq > 0 ? item.slice(0, eq) : "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new UsageError(`Cannot use --${flag} "${item}": expected KEY=VALUE`, `e.g. --${flag} TOKEN=abc`);
    }
    out[key] = item.slice(eq + 1);
  }
  return out;
}

/** The limit flags that were given, each parsed and checked against its schema. */
function limitsFromFlags(flags: RunRequestFlags): Partial<ExecutionRequest> {
  const out: Record<string, unknown> = {};
  for (const name of LIMIT_NAMES) {
    const limit = LIMITS[name] as { flag: string; schema: v.GenericSchema; fromFlag(text: string): unknown };
    const text = flags[limit.flag];
    if (typeof text !== "string") continue;
    const value = limit.fromFlag(text);
    const result = value === undefined ? null : v.safeParse(limit.schema, value);
    if (!result?.success) {
      const why = result ? result.issues[0]!.message : "expected a number";
      throw new UsageError(`Cannot use --${limit.flag} "${text}": ${why}`, `see isol8 run --help`);
    }
    out[name] = result.output;
  }
  return out;
}

const nonEmpty = (list: string[] | undefined) => (list && list.length ? list : undefined);

/** The execution request `isol8 run` sends for these flags and this source. */
export function requestFromFlags(flags: RunRequestFlags, source: RunSource): ExecutionRequest {
  if (flags.net !== undefined && !(NETWORK_MODES as readonly string[]).includes(flags.net)) {
    throw new UsageError(`Cannot use --net "${flags.net}": expected ${NETWORK_MODES.join(" | ")}`, "see isol8 run --help");
  }
  if (flags.isolation !== undefined && !(ISOLATION_RUNTIMES as readonly string[]).includes(flags.isolation)) {
    throw new UsageError(`Cannot use --isolation "${flags.isolation}": expected ${ISOLATION_RUNTIMES.join(" | ")}`);
  }
  const request: ExecutionRequest = {
    code: source.code,
    runtime: source.runtime,
    fileExtension: source.fileExtension,
    ...limitsFromFlags(flags),
  };
  const optional: Partial<ExecutionRequest> = {
    network: flags.net as ExecutionRequest["network"],
    image: flags.image,
    programFile: source.programFile,
    stdin: source.stdin,
    args: source.args,
    env: keyValues("env", flags.env),
    secrets: keyValues("secret", flags.secret),
    files: source.files,
    outputPaths: nonEmpty(flags["output-path"]),
    installPackages: nonEmpty(flags.install),
    allow: nonEmpty(flags.allow),
    deny: nonEmpty(flags.deny),
    logNetwork: flags["log-network"] ? true : undefined,
    security: flags.isolation ? { runtime: flags.isolation as NonNullable<ExecutionRequest["security"]>["runtime"] } : undefined,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (request as Record<string, unknown>)[key] = value;
  return request;
}

/** The `isol8 run` flag of each request field the engine may find fault with (limits come from the limits table). */
const FIELD_FLAGS: Record<string, string> = {
  ...Object.fromEntries(LIMIT_NAMES.map((name) => [name, `--${LIMITS[name].flag}`])),
  runtime: "--runtime",
  network: "--net",
  image: "--image",
  env: "--env",
  secrets: "--secret",
  stdin: "--stdin",
  files: "--files",
  outputPaths: "--output-path",
  installPackages: "--install",
  allow: "--allow",
  deny: "--deny",
  logNetwork: "--log-network",
  args: "the program arguments (after --)",
};

/** The flag that sets a request field (`installPackages.0` → `--install`), when one does. Pure. */
export function flagForField(field: string | undefined): string | undefined {
  return field === undefined ? undefined : FIELD_FLAGS[field.split(/[.[]/)[0]!];
}

/**
 * A request the engine refused, told in the user's words: the flag instead of the library's
 * field (`Invalid request: secrets.A: ...` → `Cannot use --secret: A: ...`). Other errors pass.
 */
export function asFlagError(error: unknown): unknown {
  if (!(error instanceof RequestError)) return error;
  const flag = flagForField(error.field);
  if (!flag) return error;
  const invalid = /^Invalid request: (?:[A-Za-z]+\.?)?(.*)$/s.exec(error.message);
  const message = invalid ? `Cannot use ${flag}: ${invalid[1]!.replace(/^: /, "")}` : `${error.message} (${flag})`;
  return new UsageError(message, error.hint ?? "see isol8 run --help");
}
