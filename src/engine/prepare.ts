import { randomUUID } from "node:crypto";
import type { Isol8Config, NetworkMode } from "../config/schema";
import { sizeToBytes } from "../config/sizes";
import { RequestError } from "../errors";
import type { RuntimeRegistry } from "../runtimes/registry";
import type { RuntimeDefinition } from "../runtimes/types";
import { SANDBOX_DIR, type SandboxSpec, type SeccompSetting } from "./container-options";
import { runtimeImageTag } from "./images/image-manager";
import { isol8Labels, LABEL_OWNER, LABEL_PID, LABEL_RUNTIME, LABEL_SCOPE } from "./labels";
import { toSandboxPath } from "./paths";
import type { ExecutionRequest } from "./request";

/** Largest file accepted in `files` or returned for `outputPaths`. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface PreparedExecution {
  executionId: string;
  runtime: RuntimeDefinition;
  code: string;
  /** Program file, relative to /sandbox; removed after the run. */
  codePath: string;
  argv: string[];
  env: string[];
  secrets: string[];
  timeoutMs: number;
  maxOutputBytes: number;
  stdin?: Buffer;
  files: { path: string; content: Buffer }[];
  outputPaths: { requested: string; path: string }[];
  network: NetworkMode;
  /** How the container must be created; `key` says which containers are interchangeable. */
  spec: SandboxSpec;
  key: string;
  /** The default image of the runtime (built on demand) rather than a custom one. */
  builtinImage: boolean;
  metadata?: Record<string, unknown>;
}

export interface PrepareContext {
  config: Isol8Config;
  runtimes: RuntimeRegistry;
  seccomp: SeccompSetting;
  /** Labels identifying the engine that creates the container. */
  owner: string;
  scope?: string;
}

/** Turns a validated request into everything the engine needs, applying config defaults. */
export function prepareExecution(request: ExecutionRequest, ctx: PrepareContext): PreparedExecution {
  const defaults = ctx.config.defaults;
  const runtime = ctx.runtimes.get(request.runtime ?? "python");
  const extension = request.fileExtension ?? runtime.defaultExtension;
  if (!runtime.extensions.includes(extension)) {
    throw new RequestError(
      `Cannot run a "${extension}" file with runtime "${runtime.name}"`,
      "fileExtension",
      `use one of: ${runtime.extensions.join(", ")}`,
    );
  }
  const network = request.network ?? defaults.network;
  if (network === "filtered") {
    throw new RequestError('Cannot use network "filtered": not supported yet', "network", 'use "none" or "host"');
  }
  const executionId = randomUUID();
  const codePath = `.isol8-${executionId.slice(0, 8)}${extension}`;
  const secrets = request.secrets ?? {};
  const env = { ...(runtime.env ?? {}), ...(request.env ?? {}), ...secrets };

  const files = Object.entries(request.files ?? {}).map(([requested, content]) => {
    const data =
      typeof content === "string"
        ? Buffer.from(content, "utf8")
        : content instanceof Uint8Array
          ? Buffer.from(content)
          : Buffer.from(content.base64, "base64");
    if (data.length > MAX_FILE_BYTES) {
      throw new RequestError(`Cannot write "${requested}": ${data.length} bytes is over the ${MAX_FILE_BYTES} byte limit`, "files");
    }
    return { path: toSandboxPath(requested, "files"), content: data };
  });
  const outputPaths = (request.outputPaths ?? []).map((requested) => ({
    requested,
    path: toSandboxPath(requested, "outputPaths"),
  }));

  const image = request.image ?? runtimeImageTag(runtime.name);
  const spec: SandboxSpec = {
    image,
    memoryBytes: sizeToBytes(request.memoryLimit ?? defaults.memoryLimit),
    cpu: request.cpuLimit ?? defaults.cpuLimit,
    pidsLimit: request.pidsLimit ?? defaults.pidsLimit,
    sandboxBytes: sizeToBytes(request.sandboxSize ?? defaults.sandboxSize),
    tmpBytes: sizeToBytes(request.tmpSize ?? defaults.tmpSize),
    network,
    seccomp: ctx.seccomp,
    labels: isol8Labels("sandbox", {
      [LABEL_OWNER]: ctx.owner,
      [LABEL_RUNTIME]: runtime.name,
      [LABEL_SCOPE]: ctx.scope,
      [LABEL_PID]: String(process.pid),
    }),
  };
  const { labels: _labels, ...keyed } = spec;
  return {
    executionId,
    runtime,
    code: request.code,
    codePath,
    argv: runtime.command.map((part) => (part === "{file}" ? `${SANDBOX_DIR}/${codePath}` : part)),
    env: Object.entries(env).map(([k, value]) => `${k}=${value}`),
    secrets: Object.values(secrets),
    timeoutMs: request.timeoutMs ?? defaults.timeoutMs,
    maxOutputBytes: sizeToBytes(request.maxOutputSize ?? defaults.maxOutputSize),
    ...(request.stdin !== undefined ? { stdin: Buffer.from(request.stdin, "utf8") } : {}),
    files,
    outputPaths,
    network,
    spec,
    key: JSON.stringify({ ...keyed, seccomp: keyed.seccomp.mode === "unconfined" ? "unconfined" : keyed.seccomp.profile }),
    builtinImage: request.image === undefined,
    ...(request.metadata ? { metadata: request.metadata } : {}),
  };
}
