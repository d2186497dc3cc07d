import { randomUUID } from "node:crypto";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../config/load";
import type { Isol8Config, Isol8ConfigInput } from "../config/schema";
import { formatError } from "../errors";
import { createRuntimeRegistry, type RuntimeRegistry } from "../runtimes/registry";
import { createDockerClient, type DockerClient } from "./docker";
import { EventQueue } from "./event-queue";
import { createImageManager, type ImageManager, type ImageProgress } from "./images/image-manager";
import { LABEL_MANAGED, LABEL_SCOPE } from "./labels";
import { type PreparedExecution, prepareExecution } from "./prepare";
import { type ExecutionRequest, validateRequest } from "./request";
import type { ExecutionResult, ExecutionSummary, StreamEvent } from "./result";
import { type RunHandlers, runExecution } from "./run-execution";
import { createSandbox, type Sandbox } from "./sandbox";
import { resolveSeccomp } from "./seccomp";
import { Semaphore } from "./semaphore";

export interface DockerIsol8Options {
  /** Configuration (as in isol8.config.json); missing keys take the defaults. Use loadConfig() to read the files. */
  config?: Isol8Config | Isol8ConfigInput;
  /** A Docker client (default: the local daemon via DOCKER_HOST or /var/run/docker.sock). */
  docker?: DockerClient;
  runtimes?: RuntimeRegistry;
  /** Engine debug log lines. */
  log?: (line: string) => void;
  /** Image build progress (images are built on first use when missing). */
  onImageProgress?: (event: ImageProgress) => void;
  /** Keep each execution's container running afterwards for inspection (`isol8 run --persist`). */
  persist?: boolean;
  /** Extra label value on every container, so a caller can sweep only its own (tests). */
  scope?: string;
  /** Where downloaded runtime binaries are cached (default ~/.isol8/cache). */
  cacheDir?: string;
}

export interface ExecuteOptions {
  /** Stops the program (every process of it) when aborted; the result says so. */
  signal?: AbortSignal;
}

/**
 * Runs untrusted code in locked-down Docker containers.
 *
 * ```ts
 * const isol8 = new DockerIsol8();
 * await isol8.start();
 * const result = await isol8.execute({ runtime: "python", code: "print(1)" });
 * await isol8.stop();
 * ```
 */
export class DockerIsol8 {
  readonly config: Isol8Config;
  /** Identifies this engine's containers (label org.isol8.owner). */
  readonly instanceId = randomUUID().slice(0, 12);
  private readonly docker: DockerClient;
  private readonly runtimes: RuntimeRegistry;
  private readonly images: ImageManager;
  private readonly semaphore: Semaphore;
  private readonly live = new Set<Sandbox>();
  private readonly log: (line: string) => void;

  constructor(private readonly options: DockerIsol8Options = {}) {
    this.config = parseConfig(options.config ?? {}, "(options.config)");
    this.docker = options.docker ?? createDockerClient();
    this.runtimes = options.runtimes ?? createRuntimeRegistry();
    this.log = options.log ?? (() => {});
    this.semaphore = new Semaphore(this.config.maxConcurrent);
    this.images = createImageManager({
      docker: this.docker,
      images: this.config.images,
      cacheDir: options.cacheDir ?? join(homedir(), ".isol8", "cache"),
    });
  }

  /** Checks that Docker answers. Throws DockerUnavailableError with a hint when it does not. */
  async start(): Promise<void> {
    await this.docker.ping();
  }

  /** Removes every container this engine still holds. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.live].map((sandbox) => this.dispose(sandbox)));
  }

  /** Runs code and collects its output. Outcomes of the code (exit code, timeout, OOM, truncation) are fields of the result. */
  async execute(request: ExecutionRequest, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    const prepared = this.prepare(request);
    return this.run(prepared, { collect: true, ...(options.signal ? { signal: options.signal } : {}) });
  }

  /**
   * Runs code and yields its output as it is produced: `stdout`/`stderr` events, then one
   * `exit` event (or an `error` event when isol8 itself fails). Breaking out of the loop
   * stops the program. An invalid request throws before the first event.
   */
  async *executeStream(request: ExecutionRequest, options: ExecuteOptions = {}): AsyncGenerator<StreamEvent> {
    const prepared = this.prepare(request);
    const queue = new EventQueue<StreamEvent>();
    const abort = new AbortController();
    const forward = () => abort.abort();
    options.signal?.addEventListener("abort", forward, { once: true });
    const done = this.run(prepared, {
      collect: false,
      signal: abort.signal,
      onStdout: (data) => queue.push({ type: "stdout", data }),
      onStderr: (data) => queue.push({ type: "stderr", data }),
    }).then(
      (result) => queue.push({ type: "exit", data: summarize(result) }),
      (error) => queue.push({ type: "error", data: formatError(error) }),
    );
    done.finally(() => queue.close());
    try {
      yield* queue;
    } finally {
      options.signal?.removeEventListener("abort", forward);
      abort.abort();
      await done;
    }
  }

  /** Removes containers (and with `images`, images) carrying isol8 labels. Selects by label only. */
  static async cleanup(
    options: { docker?: DockerClient; images?: boolean; scope?: string } = {},
  ): Promise<{ containers: number; images: number }> {
    const docker = options.docker ?? createDockerClient();
    const selector = { [LABEL_MANAGED]: "true", ...(options.scope ? { [LABEL_SCOPE]: options.scope } : {}) };
    const containers = await docker.listContainers(selector);
    await Promise.all(containers.map((c) => docker.remove(c.id)));
    let images = 0;
    if (options.images) {
      const list = await docker.listImages({ [LABEL_MANAGED]: "true" });
      for (const image of list) {
        for (const ref of image.tags.length ? image.tags : [image.id]) await docker.removeImage(ref);
        images++;
      }
    }
    return { containers: containers.length, images };
  }

  /** The engine's image manager (used by `isol8 setup`). */
  get imageManager(): ImageManager {
    return this.images;
  }

  private prepare(request: ExecutionRequest): PreparedExecution {
    return prepareExecution(validateRequest(request), {
      config: this.config,
      runtimes: this.runtimes,
      seccomp: resolveSeccomp(this.config.security),
      owner: this.instanceId,
      scope: this.options.scope,
    });
  }

  private async run(prepared: PreparedExecution, handlers: RunHandlers): Promise<ExecutionResult> {
    const release = await this.semaphore.acquire();
    try {
      if (prepared.builtinImage) await this.images.ensure(prepared.runtime, this.options.onImageProgress);
      else await this.images.ensurePresent(prepared.spec.image, prepared.runtime.name);
      const sandbox = await createSandbox({ docker: this.docker, spec: prepared.spec, key: prepared.key, log: this.log });
      this.live.add(sandbox);
      try {
        const { result } = await runExecution(sandbox, prepared, handlers);
        return result;
      } finally {
        if (this.options.persist) {
          sandbox.detach();
          this.live.delete(sandbox);
          this.log(`container ${sandbox.id} kept for inspection`);
        } else {
          await this.dispose(sandbox);
        }
      }
    } finally {
      release();
    }
  }

  private async dispose(sandbox: Sandbox): Promise<void> {
    this.live.delete(sandbox);
    await sandbox.dispose().catch((error) => this.log(`cannot remove container ${sandbox.id}: ${formatError(error)}`));
  }
}

function summarize(result: ExecutionResult): ExecutionSummary {
  const { stdout: _stdout, stderr: _stderr, ...summary } = result;
  return summary;
}
