import { randomUUID } from "node:crypto";
import type { Isol8Config } from "../config/schema";
import type { IsolationRuntime, NetworkMode } from "../protocol/execution";
import { sizeToBytes } from "../protocol/sizes";
import { RequestError } from "../errors";
import type { RuntimeRegistry } from "../runtimes/registry";
import type { Runtime, RuntimeName } from "../runtimes/registry";
import type { SandboxSpec, SeccompSetting } from "./container-options";
import { isol8Labels, LABEL_BOOT, LABEL_OWNER, LABEL_PID, LABEL_PID_START, LABEL_RUNTIME, LABEL_SCOPE } from "./labels";
import type { OwnerIdentity } from "./owner";
import { PROGRAM_BASENAME, SANDBOX_DIR, toSandboxPath } from "./paths";
import { compileHostPolicy } from "./network/host-policy";
import { proxyEnv } from "./network/sandbox-network";
import { fitsStandby, standbyProgram } from "./standby";
import { wantsZygote } from "./zygote";
import type { ExecutionRequest } from "../protocol/execution";
import type { RequestDefaults } from "./engine-options";

/** Largest file accepted in `files` (and by putFile/getFile). Output files have their own limits (maxOutputFileSize). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface PreparedExecution {
  executionId: string;
  runtime: Runtime;
  code: string;
  /** Program file, relative to /sandbox (`main.py` unless the request names it); removed after the run. */
  codePath: string;
  argv: string[];
  env: string[];
  secrets: string[];
  timeoutMs: number;
  maxOutputBytes: number;
  stdin?: Buffer;
  files: { path: string; content: Buffer }[];
  /** Distinct output paths (one per file, under the first spelling requested). */
  outputPaths: { requested: string; path: string }[];
  /** Bytes one output file, and all of them together, may have. */
  outputLimits: { fileBytes: number; totalBytes: number };
  /**
   * The network the program runs under, as asked. The container's (`spec.network`) is
   * "filtered" also for a "none" program that installs packages: the install goes through
   * the proxy, then the program's policy allows nothing.
   */
  network: NetworkMode;
  /** Packages to install before the program: the argv of the install command. */
  install?: { argv: string[]; packages: string[] };
  /**
   * Whenever the container goes through the proxy: the program's own policy (for a "none"
   * program, an empty allow list). The install step adds the image's registry hosts to it
   * (execution/network-policy.ts); the program never gets them.
   */
  policy?: { allow: string[]; deny: string[]; logNetwork: boolean };
  /** How the container must be created; `key` says which containers are interchangeable. */
  spec: SandboxSpec;
  key: string;
  /** The default image of the runtime (built on demand) rather than a custom one. */
  builtinImage: boolean;
  /** The program goes to the container's standby program (spec.standby), whose start-up environment it shares. */
  standby?: true;
  metadata?: Record<string, unknown>;
}

export interface PrepareContext {
  config: Isol8Config;
  /** The built-in image of a runtime. */
  runtimeImage(name: RuntimeName): string;
  runtimes: RuntimeRegistry;
  seccomp: SeccompSetting;
  /** The container runtime of this execution (the request's, else the config's). */
  isolation: IsolationRuntime;
  /** Labels identifying the engine that creates the container. */
  owner: string;
  /** The engine's process (pid, start time, boot): how a sweep tells a dead owner from a live one. */
  ownerProcess?: OwnerIdentity;
  scope?: string;
  /** The engine's own defaults for every request (DockerIsol8's top-level secrets, logNetwork, image). */
  requestDefaults?: RequestDefaults;
  /** Containers made for one execution (cold): no python zygote. */
  oneShot?: boolean;
  /** One-shot containers are removed by Docker once they exit (the CLI: it does not wait for the removal). */
  autoRemove?: boolean;
}

/** Which containers are interchangeable: everything of the spec but its labels. */
function containerKey(spec: SandboxSpec): string {
  const { labels: _labels, ...keyed } = spec;
  return JSON.stringify({ ...keyed, seccomp: keyed.seccomp.mode === "unconfined" ? "unconfined" : keyed.seccomp.profile });
}

/** The same execution on an image that already holds its packages: nothing to install. */
export function onBakedImage(prepared: PreparedExecution, image: string): PreparedExecution {
  const spec = { ...prepared.spec, image };
  const { install: _install, ...rest } = prepared;
  return { ...rest, spec, key: containerKey(spec), builtinImage: false };
}

/**
 * The output paths to read back, each confined to /sandbox, one per file: spellings of the
 * same path (`a`, `./a`, `/sandbox//a`) are one entry, under the first spelling. Pure.
 */
export function distinctOutputPaths(requested: readonly string[]): PreparedExecution["outputPaths"] {
  const byPath = new Map<string, string>();
  for (const spelling of requested) {
    const path = toSandboxPath(spelling, "outputPaths");
    if (!byPath.has(path)) byPath.set(path, spelling);
  }
  return [...byPath].map(([path, first]) => ({ requested: first, path }));
}

/** Validates package names (data only: never options, URLs, paths or shell syntax) and builds the install argv. */
function prepareInstall(runtime: Runtime, packages: readonly string[] | undefined): PreparedExecution["install"] {
  if (!packages || packages.length === 0) return undefined;
  if (!runtime.install) {
    throw new RequestError(`Cannot install packages for ${runtime.name}: not supported for ${runtime.name}`, "installPackages", "use a custom image with the tools baked in (isol8 build)");
  }
  const pattern = new RegExp(runtime.install.pattern);
  const names = packages.map((name) => {
    if (!pattern.test(name)) {
      throw new RequestError(
        `Cannot install ${JSON.stringify(name)}: not a plain ${runtime.name} package name`,
        "installPackages",
        "options, URLs, paths and shell characters are not accepted",
      );
    }
    const prefix = runtime.install!.prefix;
    return prefix && !/^[a-z]+:/.test(name) ? `${prefix}${name}` : name;
  });
  const argv = runtime.install.argv.flatMap((part) => (part === "{packages}" ? names : [part]));
  return { argv, packages: names };
}

/**
 * The runtime's own heap limit at its share of the memory limit: the runtime then stops with
 * its own "out of memory" (reported as memory-limit) before the kernel kills it. A request may
 * still set the variable itself.
 */
export function heapLimitEnv(runtime: Pick<Runtime, "heapLimit">, memoryBytes: number): Record<string, string> {
  if (!runtime.heapLimit) return {};
  const mb = Math.max(16, Math.floor((memoryBytes * runtime.heapLimit.share) / 1024 / 1024));
  return { [runtime.heapLimit.env]: runtime.heapLimit.flag.replace("{mb}", String(mb)) };
}

/** Bytes as a request states them: text (UTF-8), bytes, or `{ base64 }`. */
function bytesOf(content: string | Uint8Array | { base64: string }): Buffer {
  if (typeof content === "string") return Buffer.from(content, "utf8");
  return content instanceof Uint8Array ? Buffer.from(content) : Buffer.from(content.base64, "base64");
}

/**
 * The program file's name and extension: `programFile` when given (its extension, one of the
 * runtime's, decides how the runtime reads it), else `main` plus `fileExtension` or the
 * runtime's default. Pure.
 */
export function programFileOf(
  request: Pick<ExecutionRequest, "programFile" | "fileExtension">,
  runtime: Pick<Runtime, "name" | "extensions" | "defaultExtension">,
): { name: string; extension: string } {
  const named = request.programFile;
  if (named === undefined) {
    const extension = request.fileExtension ?? runtime.defaultExtension;
    return { name: `${PROGRAM_BASENAME}${extension}`, extension };
  }
  const own = named.includes(".") ? named.slice(named.lastIndexOf(".")) : "";
  if (!runtime.extensions.includes(own)) {
    throw new RequestError(
      `Cannot run "${named}" with runtime "${runtime.name}": its name must end in ${runtime.extensions.join(", ")}`,
      "programFile",
      "the extension says how the runtime reads the file",
    );
  }
  if (request.fileExtension && request.fileExtension !== own) {
    throw new RequestError(
      `Cannot run "${named}" as a "${request.fileExtension}" file: its name says "${own}"`,
      "programFile",
      "leave fileExtension out, or name the file with that extension",
    );
  }
  return { name: named, extension: own };
}

/** Turns a validated request into everything the engine needs, applying config defaults. */
export function prepareExecution(request: ExecutionRequest, ctx: PrepareContext): PreparedExecution {
  const defaults = ctx.config.defaults;
  const runtime = ctx.runtimes.get(request.runtime ?? "python");
  const program = programFileOf(request, runtime);
  const extension = program.extension;
  if (!runtime.extensions.includes(extension)) {
    throw new RequestError(
      `Cannot run a "${extension}" file with runtime "${runtime.name}"`,
      "fileExtension",
      `use one of: ${runtime.extensions.join(", ")}`,
    );
  }
  const install = prepareInstall(runtime, request.installPackages);
  // The program runs under the network it asked for. A "none" program that installs gets a
  // filtered container: the install reaches the registries through the proxy, the program nothing.
  const network = request.network ?? defaults.network;
  if (network === "host" && ctx.isolation === "gvisor") {
    // gVisor is registered with its own network off (.ci/provision-gvisor.sh): a host network would be only loopback.
    throw new RequestError('Cannot use network "host" with runtime "gvisor": gVisor runs without a network of its own', "network", 'use network "filtered", or security.runtime "runc"');
  }
  const containerNetwork: NetworkMode = install && network === "none" ? "filtered" : network;
  for (const field of ["allow", "deny"] as const) {
    if (request[field] !== undefined && network !== "filtered") {
      throw new RequestError(`Cannot use ${field} with network "${network}": it applies to the filtered network only`, field, 'set network "filtered"');
    }
  }
  if (request.logNetwork !== undefined && containerNetwork !== "filtered") {
    throw new RequestError(
      `Cannot use logNetwork with network "${network}": it applies to the filtered network only (and to installs)`,
      "logNetwork",
      'set network "filtered"',
    );
  }
  const policy =
    containerNetwork === "filtered"
      ? {
          allow: network === "filtered" ? [...ctx.config.network.whitelist, ...(request.allow ?? [])] : [],
          deny: [...ctx.config.network.blacklist, ...(request.deny ?? [])],
          logNetwork: request.logNetwork ?? ctx.requestDefaults?.logNetwork ?? false,
        }
      : undefined;
  // Compiled here only to refuse bad patterns before anything starts (RequestError naming the
  // list and pattern); the proxy compiles them again when the execution's policy is set.
  if (policy) compileHostPolicy(policy);
  const executionId = randomUUID();
  const codePath = program.name;
  const programPath = `${SANDBOX_DIR}/${codePath}`;
  const secrets = { ...ctx.requestDefaults?.secrets, ...request.secrets };
  const memoryBytes = sizeToBytes(request.memoryLimit ?? defaults.memoryLimit);
  const constantEnv = { ...(runtime.env ?? {}), ...heapLimitEnv(runtime, memoryBytes) };
  const env = {
    ...constantEnv,
    ...(containerNetwork === "filtered" ? proxyEnv(ctx.config.network.proxyPort) : {}),
    ...(request.env ?? {}),
    ...secrets,
  };

  const files = Object.entries(request.files ?? {}).map(([requested, content]) => {
    const data = bytesOf(content);
    if (data.length > MAX_FILE_BYTES) {
      throw new RequestError(`Cannot write "${requested}": ${data.length} bytes is over the ${MAX_FILE_BYTES} byte limit`, "files");
    }
    const path = toSandboxPath(requested, "files");
    if (path === codePath) {
      throw new RequestError(`Cannot write "${requested}": it is the program file`, "files", "name the program file otherwise with programFile");
    }
    return { path, content: data };
  });
  const outputPaths = distinctOutputPaths(request.outputPaths ?? []);
  const maxOutputFiles = request.maxOutputFiles ?? defaults.maxOutputFiles;
  if (outputPaths.length > maxOutputFiles) {
    throw new RequestError(
      `Cannot read back ${outputPaths.length} output paths: over the maxOutputFiles limit of ${maxOutputFiles}`,
      "outputPaths",
      "ask for fewer files (a directory's files can be archived into one), or raise maxOutputFiles",
    );
  }

  const customImage = request.image ?? ctx.requestDefaults?.image;
  const image = customImage ?? ctx.runtimeImage(runtime.name);
  const standby = standbyProgram({
    enabled: ctx.config.security.standbyPrograms,
    runtime,
    customImage: customImage !== undefined,
    oneShot: ctx.oneShot ?? false,
    constantEnv,
  });
  const envEntries = Object.entries(env).map(([k, value]) => `${k}=${value}`);
  const spec: SandboxSpec = {
    image,
    memoryBytes,
    cpu: request.cpuLimit ?? defaults.cpuLimit,
    pidsLimit: request.pidsLimit ?? defaults.pidsLimit,
    sandboxBytes: sizeToBytes(request.sandboxSize ?? defaults.sandboxSize),
    tmpBytes: sizeToBytes(request.tmpSize ?? defaults.tmpSize),
    network: containerNetwork,
    seccomp: ctx.seccomp,
    isolation: ctx.isolation,
    ...(wantsZygote({
      enabled: ctx.config.security.pythonZygote,
      runtime: runtime.name,
      isolation: ctx.isolation,
      customImage: customImage !== undefined,
      oneShot: ctx.oneShot ?? false,
    })
      ? { zygote: true }
      : {}),
    ...(standby ? { standby } : {}),
    ...(ctx.oneShot && ctx.autoRemove ? { autoRemove: true } : {}),
    labels: isol8Labels("sandbox", {
      [LABEL_OWNER]: ctx.owner,
      [LABEL_RUNTIME]: runtime.name,
      [LABEL_SCOPE]: ctx.scope,
      [LABEL_PID]: String(ctx.ownerProcess?.pid ?? process.pid),
      [LABEL_PID_START]: ctx.ownerProcess?.start ?? undefined,
      [LABEL_BOOT]: ctx.ownerProcess?.boot ?? undefined,
    }),
  };
  const key = containerKey(spec);
  return {
    executionId,
    runtime,
    code: request.code,
    codePath,
    argv: [...runtime.command.map((part) => (part === "{file}" ? programPath : part)), ...(request.args ?? [])],
    env: envEntries,
    secrets: Object.values(secrets),
    timeoutMs: request.timeoutMs ?? defaults.timeoutMs,
    maxOutputBytes: sizeToBytes(request.maxOutputSize ?? defaults.maxOutputSize),
    ...(request.stdin !== undefined ? { stdin: bytesOf(request.stdin) } : {}),
    files,
    outputPaths,
    outputLimits: {
      fileBytes: sizeToBytes(request.maxOutputFileSize ?? defaults.maxOutputFileSize),
      totalBytes: sizeToBytes(request.maxOutputFilesTotal ?? defaults.maxOutputFilesTotal),
    },
    network,
    ...(install ? { install } : {}),
    ...(policy ? { policy } : {}),
    spec,
    key,
    builtinImage: customImage === undefined,
    ...(standby && fitsStandby(standby, runtime, envEntries, { programPath, args: request.args ?? [] }) ? { standby: true as const } : {}),
    ...(request.metadata ? { metadata: request.metadata } : {}),
  };
}
