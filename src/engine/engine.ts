import { randomUUID } from "node:crypto";
import { rmdirSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parseConfig } from "../config/load";
import type { Isol8Config, Isol8ConfigInput } from "../config/schema";
import { ConfigError, ConflictError, FileError, formatError, Isol8Error, SandboxError, SessionLostError } from "../errors";
import { createRuntimeRegistry, type RuntimeRegistry } from "../runtimes/registry";
import { type AuditIo, type AuditLog, createAuditLog } from "./audit/audit-log";
import type { AuditContext } from "./audit/audit-record";
import { createDockerClient, type DockerClient } from "./docker";
import { EventQueue } from "./event-queue";
import { type PipelineDeps, runPipeline } from "./execution/pipeline";
import type { RunHandlers } from "./execution/handlers";
import { Slots } from "../lib/slots";
import { createImageManager, type ImageManager, type ImageProgress, SUPERVISOR_HASH } from "./images/image-manager";
import { DEFAULT_IMAGE_REPOSITORY, imageNames } from "./images/image-names";
import { ownerProcessGone, sweepContainers } from "./cleanup";
import { currentOwner } from "./owner";
import { isol8Selector, LABEL_OWNER } from "./labels";
import { createColdProvider } from "./pool/cold-provider";
import { SessionProvider } from "./pool/session-provider";
import { createSandbox, type Sandbox } from "./sandbox";
import type { SandboxProvider } from "./pool/provider";
import { SandboxPool } from "./pool/sandbox-pool";
import { MAX_FILE_BYTES, onBakedImage, type PreparedExecution, prepareExecution } from "./prepare";
import { findBakedImage } from "./images/baked-images";
import { removeImages } from "./images/remove-images";
import { toSandboxPath } from "./paths";
import { SandboxUids } from "./sandbox-uids";
import { fileOperationError } from "./supervisor/file-errors";
import { claimRunDir, runDirBase } from "./run-dir";
import type { RuntimeName } from "../runtimes/registry";
import { gvisorReuseProblem, type SandboxSpec } from "./container-options";
import { readHostTasks } from "./host-tasks";
import { type ExecutionRequest, validateRequest } from "../protocol/execution";
import type { ExecutionResult, ExecutionSummary, FileContent, FileEncoding, StreamEvent } from "../protocol/execution";
import type { ExecuteOptions, Isol8 } from "../protocol/isol8";
import { checkHostPatterns } from "./network/host-policy";
import { SandboxNetwork } from "./network/sandbox-network";
import { resolveSeccomp } from "./seccomp";
import type * as v from "valibot";
import { ENGINE_OWN_KEYS, type EngineDefaultsSchema, type RequestDefaults, resolveEngineOptions } from "./engine-options";
import { runtimeStatus } from "./images/runtime-status";
import type { RuntimeInfo } from "../protocol/runtime-info";
import type { SandboxFiles } from "../protocol/sandbox-files";
import { type EngineObserver, executionOutcome } from "../protocol/observe";
import { LABEL_RUNTIME } from "./labels";
import { ContextSet } from "./contexts/context-set";
import { ArtifactTracker } from "./contexts/artifacts";
import type { EngineContext } from "./contexts/engine-context";
import type { CellOptions, CellResult, ContextInfo, ContextRuntime, CreateContextRequest, Isol8Contexts } from "../protocol/context";
import { sizeToBytes } from "../protocol/sizes";

/**
 * Engine defaults at the top level (isol8 0.x's call shape), applied to every execution that
 * does not set them: the limits, `network`, `networkFilter` (→ network.whitelist/blacklist),
 * `security`, `poolStrategy`, `poolSize`, `maxConcurrent` and `audit` go into the
 * configuration (over `config`); `secrets` (merged under each request's), `logNetwork` (for
 * filtered runs) and `image` are added to each request; `debug` logs to stderr.
 */
export type EngineDefaults = v.InferInput<typeof EngineDefaultsSchema> & Partial<Pick<Isol8ConfigInput, "security" | "poolStrategy" | "poolSize" | "maxConcurrent">>;

export interface DockerIsol8Options extends EngineDefaults {
  /**
   * `ephemeral` (default): every execution gets a container with no trace of earlier ones
   * (from the warm pool, or cold). `persistent`: one container for the engine's life; files
   * persist across executions; bound to its first runtime.
   */
  mode?: "ephemeral" | "persistent";
  /** Keep warm containers between executions (ephemeral mode; default true). */
  pool?: boolean;
  /** Runtime of a persistent container created by putFile/getFile before any execution (default python). */
  runtime?: RuntimeName;
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
  /**
   * Containers made for one execution (no pool, not persistent, not `persist`) are removed by
   * Docker itself once they exit (AutoRemove): after a clean run the engine only lets go, and
   * `stop({ waitMs: 0 })` need not wait for the removal (the one-shot CLI).
   */
  removeInBackground?: boolean;
  /** Extra label value on every container, so a caller can sweep only its own (tests). */
  scope?: string;
  /** Owner label of this engine's containers (default: a random id). A server gives all its engines its own id. */
  owner?: string;
  /** Where downloaded runtime binaries are cached (default ~/.isol8/cache). */
  cacheDir?: string;
  /** Repository of isol8's images (default: $ISOL8_IMAGE_REPOSITORY, else "isol8"). */
  imageRepository?: string;
  /**
   * The audit log: its settings (config `audit.*`: enabled, destination, logDir, ...) and its
   * I/O (the `stdout` destination's writer, error reporting).
   */
  audit?: AuditIo & NonNullable<Isol8ConfigInput["audit"]>;
  /** Receives an event per execution, container created or destroyed and proxied request (metrics, logs). */
  observe?: EngineObserver;
}

// Every option of DockerIsol8Options is known to resolveEngineOptions (an unknown one is refused
// there): this fails to compile when an option is added to the interface but not to its list.
type UnlistedOptions = Exclude<keyof DockerIsol8Options, (typeof ENGINE_OWN_KEYS)[number] | keyof EngineDefaults | "audit">;
export type EngineOptionsAreListed = [UnlistedOptions] extends [never] ? true : never;
const _engineOptionsAreListed: EngineOptionsAreListed = true;
void _engineOptionsAreListed;

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
export class DockerIsol8 implements Isol8, Isol8Contexts {
  readonly config: Isol8Config;
  /** Identifies this engine's containers (their owner label). */
  readonly instanceId: string;
  private readonly docker: DockerClient;
  private readonly runtimes: RuntimeRegistry;
  private readonly images: ImageManager;
  private readonly log: (line: string) => void;
  /** Where containers come from: the warm pool, a fresh one per execution, or the persistent session. */
  private readonly containers: SandboxProvider;
  private readonly pool: SandboxPool | null = null;
  private readonly session: SessionProvider | null = null;
  private readonly audit: AuditLog | null;
  private readonly pipeline: PipelineDeps;
  /** Images known to exist (checked once per engine, not per execution). */
  private readonly ensured = new Set<string>();
  /** Container removals still running; stop() waits for them. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Filtered networking (proxy and per-container sockets), created on first use. */
  private network: SandboxNetwork | null = null;
  /** This engine's host directory for the sockets its containers reach (proxy and direct channels), which Docker bind-mounts. */
  private readonly runDir: string;
  /** Where every engine's run directory is ($ISOL8_RUN_DIR as this engine was made, else <tmp>/isol8). */
  private readonly runDirBase: string;
  /** Why the run directories' base may not hold sockets (null: it may; undefined: not checked yet, it is on first use). */
  private runDirChecked: string | null | undefined = undefined;
  /** The debug log said once why the direct channel is not used. */
  private attachOnlySaid = false;
  /** This process, as recorded on every container it creates. */
  private readonly ownerProcess = currentOwner();
  private readonly observe: EngineObserver;

  /** What every request gets unless it says otherwise (top-level secrets, logNetwork, image). */
  private readonly requestDefaults: RequestDefaults;
  /** The uids of containers and of contexts. */
  private readonly uids: SandboxUids;
  /** Code-interpreter contexts (persistent engines only). */
  private readonly contexts: ContextSet | null = null;
  /** Files created or changed in the session's container (persistent engines only). */
  private readonly artifacts: ArtifactTracker | null = null;

  constructor(private readonly options: DockerIsol8Options = {}) {
    this.instanceId = options.owner ?? randomUUID().slice(0, 12);
    // The engines of one owner (a server's, its sessions') each have their own: one engine's stop removes only its own sockets.
    this.runDirBase = runDirBase();
    this.runDir = join(this.runDirBase, this.instanceId, randomUUID().slice(0, 8));
    const resolved = resolveEngineOptions(options as unknown as Record<string, unknown>, options.config ?? {});
    this.requestDefaults = resolved.request;
    this.config = parseConfig(resolved.config, "(options)");
    const patterns = checkHostPatterns({ allow: this.config.network.whitelist, deny: this.config.network.blacklist });
    if (patterns) throw new ConfigError(`Cannot use network.whitelist / network.blacklist: ${patterns}`, "see README: host patterns");
    this.docker = options.docker ?? createDockerClient();
    this.runtimes = options.runtimes ?? createRuntimeRegistry();
    this.log = options.log ?? (resolved.debug || this.config.debug ? (line) => console.error(`isol8: ${line}`) : () => {});
    this.observe = options.observe ?? (() => {});
    this.audit = this.config.audit.enabled
      ? createAuditLog({ config: this.config.audit, inspectImage: (ref) => this.docker.inspectImage(ref), ...(resolved.auditIo as AuditIo | undefined) })
      : null;
    this.images = createImageManager({
      docker: this.docker,
      names: imageNames(options.imageRepository ?? (process.env.ISOL8_IMAGE_REPOSITORY || DEFAULT_IMAGE_REPOSITORY)),
      images: this.config.images,
      cacheDir: options.cacheDir ?? join(homedir(), ".isol8", "cache"),
    });
    const uids = new SandboxUids(this.config.security.sandboxUids);
    this.uids = uids;
    const create = async (spec: SandboxSpec, key: string) => {
      // Not under gVisor: with Debian's runsc (release 20221219) the removal of a container whose
      // supervisor had connected to a host socket took 15-100 s in 3 of 5 runs of
      // contexts-security.test.ts (containerd's shim did not see the sandbox end); over the
      // attach stream none did.
      const channelDir = spec.isolation === "gvisor" ? undefined : this.channelDir();
      const sandbox = await createSandbox({
        docker: this.docker,
        spec,
        key,
        uids,
        log: this.log,
        attachProxy: () => this.sandboxNetwork().attach(),
        proxyPort: this.config.network.proxyPort,
        ...(channelDir ? { channelDir } : {}),
      });
      this.observe({ type: "container-created", runtime: spec.labels[LABEL_RUNTIME] ?? "custom" });
      return sandbox;
    };
    const destroy = (sandbox: Sandbox) => this.track(sandbox.dispose().then(() => this.observe({ type: "container-destroyed" })));
    const size = this.config.poolSize;
    const { clean, dirty } = typeof size === "number" ? { clean: size, dirty: size } : size;
    if (options.mode === "persistent") {
      this.session = new SessionProvider((prepared) => create(prepared.spec, prepared.key), destroy);
      this.containers = this.session;
      this.artifacts = new ArtifactTracker(MAX_FILE_BYTES);
      this.contexts = this.createContextSet();
    } else if (options.pool !== false && clean > 0) {
      this.pool = new SandboxPool({
        strategy: this.config.poolStrategy,
        clean,
        dirty,
        maxAgeMs: this.config.cleanup.maxContainerAgeMs,
        create,
        destroy,
        // gVisor keeps host stubs of ended processes: a container that holds too many is let go.
        reuseProblem: (sandbox, spec) => (spec.isolation === "gvisor" ? gvisorReuseProblem(spec, readHostTasks(sandbox.id)) : null),
        log: this.log,
      });
      this.containers = this.pool;
    } else {
      this.containers = createColdProvider(create, destroy);
    }
    this.pipeline = {
      slots: new Slots(this.config.maxConcurrent),
      resolveImage: (prepared) => this.resolveImage(prepared),
      containers: this.containers,
      proxy: () => this.network?.proxy ?? null,
      registryHosts: (image) => this.images.registryHosts(image),
      release: (sandbox, reusable) => this.releaseContainer(sandbox, reusable),
      containerLost: (sandbox, why) => {
        const id = sandbox.id.slice(0, 12);
        if (!this.session) return new SandboxError(`Cannot finish the execution in container "${id}": ${why}`, "run it again");
        this.session.forget(sandbox);
        return new SessionLostError(`Cannot finish the execution in the session's container "${id}": ${why}; its files are gone`, "the next request starts a new container");
      },
    };
  }

  /**
   * Checks that Docker answers within `timeoutMs` (default 5 s; throws DockerUnavailableError
   * with a hint when it does not), then removes, in the background, containers whose owning
   * process is certainly gone (left by a killed CLI or server). `prewarm` starts pool
   * containers for all (`true`) or the listed runtimes and waits for them.
   */
  async start(options: { prewarm?: boolean | readonly RuntimeName[] | { runtimes: readonly RuntimeName[] }; timeoutMs?: number } = {}): Promise<void> {
    await this.docker.ping(options.timeoutMs);
    this.sweepOrphans();
    const { prewarm } = options;
    if (!prewarm || !this.pool) return;
    // `{ runtimes: [...] }` is isol8 0.x's spelling of the list.
    const names = prewarm === true ? this.runtimes.all.map((r) => r.name) : "runtimes" in prewarm ? prewarm.runtimes : prewarm;
    await Promise.all(
      names.map(async (name) => {
        const prepared = this.prepare({ code: "", runtime: name });
        await this.ensureImage(prepared);
        await this.pool!.prewarm(prepared.spec, prepared.key);
      }),
    );
  }

  /**
   * Removes every container this engine holds (pool, persistent container, in-flight ones).
   * Waits up to `waitMs` (default 10 s) for removals Docker is slow to confirm; what is left
   * then is removed by the next engine's start (its owner is gone by then).
   */
  async stop(options: { waitMs?: number } = {}): Promise<void> {
    this.audit?.close();
    // The container's removal kills every driver: no close frame per context.
    this.contexts?.dispose();
    await this.containers.stop().catch(() => {});
    const until = performance.now() + (options.waitMs ?? 10_000);
    while (this.pending.size && performance.now() < until) {
      const left = until - performance.now();
      await Promise.race([Promise.allSettled([...this.pending]), new Promise((resolve) => setTimeout(resolve, left).unref?.())]);
    }
    await this.network?.close();
    this.network = null;
    // Channel directories go as their supervisors connect; what is left is of containers that never started.
    rmSync(this.runDir, { recursive: true, force: true });
    // The owner's directory, once its last engine is gone (rmdir refuses one that is not empty).
    try {
      rmdirSync(dirname(this.runDir));
    } catch {}
  }

  /** Removes the pool's idle containers (the engine keeps working); returns how many. */
  async releaseIdle(): Promise<number> {
    return (await this.pool?.clear()) ?? 0;
  }

  /** Runtime a persistent engine is bound to (null before its first use or when ephemeral). */
  get sessionRuntime(): RuntimeName | null {
    return this.session?.boundRuntime ?? null;
  }

  /** Container of a persistent engine (null before its first use or when ephemeral). */
  get sessionContainerId(): string | null {
    return this.session?.containerId ?? null;
  }

  /** Resolves when the pool has finished its background work (cleaning, refilling). */
  async poolIdle(): Promise<void> {
    await this.pool?.idle();
  }

  /** Pool counts (ready, dirty, busy, creating), or null without a pool. */
  poolStats(): ReturnType<SandboxPool["stats"]> | null {
    return this.pool?.stats() ?? null;
  }

  /** Pool counts per runtime (empty without a pool), for metrics and readiness. */
  poolStatsByRuntime(): ReturnType<SandboxPool["statsBy"]> {
    return this.pool?.statsBy((spec) => spec.labels[LABEL_RUNTIME] ?? "custom") ?? {};
  }

  /**
   * Writes a regular file into the persistent container (created on demand). A bad path throws
   * RequestError; a refusal for what is at the path throws FileError with its `reason`: a
   * symlink is never written through (`symlink`), a FIFO, socket or directory never opened
   * (`not-regular-file`), over the size limit or out of space is `too-large`.
   */
  async putFile(path: string, content: string | Uint8Array): Promise<void> {
    const relative = toSandboxPath(path);
    const data = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
    if (data.length > MAX_FILE_BYTES) {
      throw new FileError("too-large", `Cannot write "${path}": ${data.length} bytes is over the ${MAX_FILE_BYTES} byte limit`);
    }
    await this.inSession("putFile", (sandbox) => sandbox.channel.writeFile(relative, data));
  }

  /**
   * Reads a regular file from the persistent container. A bad path throws RequestError; a
   * refusal throws FileError with its `reason` (`not-found`, `outside-sandbox` for a symlink
   * leading out, `not-regular-file` for a FIFO, socket, device or directory, `too-large`).
   */
  async getFile(path: string): Promise<Buffer> {
    const relative = toSandboxPath(path);
    const read = await this.inSession("getFile", (sandbox) => sandbox.channel.readFile(relative, MAX_FILE_BYTES));
    if (!read.ok) throw fileOperationError("read", relative, read.refusal);
    return read.content;
  }

  /**
   * The regular files under /sandbox of the persistent container (created on demand), as the
   * sandbox user sees them (the supervisor's listing: symlinks never followed, at most 10 000 entries).
   */
  async listFiles(): Promise<SandboxFiles> {
    const listing = await this.inSession("listFiles", (sandbox) => sandbox.channel.listSandbox());
    const files = [...listing.files].map(([path, { size, mtime }]) => {
      const seconds = Number(mtime);
      return { path, size, modifiedAt: Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : "" };
    });
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { files, truncated: listing.truncated };
  }

  /**
   * Runs code and collects its output. Outcomes of the code (exit code, timeout, OOM, truncation)
   * are fields of the result. Output files are base64 text unless `fileEncoding: "bytes"`.
   */
  async execute<E extends FileEncoding = "base64">(request: ExecutionRequest, options: ExecuteOptions<E> = {}): Promise<ExecutionResult<FileContent<E>>> {
    const prepared = this.prepare(request);
    const result = await this.runAudited(prepared, { collect: true, ...(options.signal ? { signal: options.signal } : {}) }, options.audit);
    return encodeFiles(await this.withArtifacts(result), options.fileEncoding);
  }

  /** In a session: the result with the files its execution created or changed under /sandbox. */
  private async withArtifacts<T extends ExecutionResult<string | Uint8Array>>(result: T): Promise<T> {
    // A container lost in this execution is reported by the next request (SessionLostError), not here.
    if (!this.session || !this.artifacts || this.session.usableContainerId !== result.containerId) return result;
    try {
      const runtime = (this.session.boundRuntime ?? result.runtime) as ContextRuntime;
      const artifacts = await this.inContextSession(runtime, undefined, (sandbox) =>
        sandbox.id === result.containerId ? this.artifacts!.changes(sandbox) : Promise.resolve([]),
      );
      return { ...result, artifacts };
    } catch {
      return result; // the container went away after the result: no listing
    }
  }

  /**
   * Runs code and yields its output as it is produced: `stdout`/`stderr` events, then one
   * `exit` event (or an `error` event when isol8 itself fails). Breaking out of the loop
   * stops the program. An invalid request throws right here, before any event.
   */
  executeStream<E extends FileEncoding = "base64">(request: ExecutionRequest, options: ExecuteOptions<E> = {}): AsyncGenerator<StreamEvent<FileContent<E>>> {
    return this.streamEvents(this.prepare(request), options);
  }

  /**
   * Starts a code-interpreter context (a long-lived interpreter) in the persistent container:
   * `python` (the default), `node`, `bun`, `deno` or `bash`. Its runtime must be the session's
   * (bash works in every session). Contexts share the container's files, not their state.
   */
  createContext(request: CreateContextRequest = {}): Promise<EngineContext> {
    return this.contextSet("createContext").create(request);
  }

  /** The persistent engine's contexts. */
  async listContexts(): Promise<ContextInfo[]> {
    return this.contexts?.list() ?? [];
  }

  /** A context by id (RequestError when there is none). */
  getContext(id: string): EngineContext {
    return this.contextSet("getContext").get(id);
  }

  /** Interrupts the running cell with this execution id; false when no such cell runs. */
  async cancel(executionId: string): Promise<boolean> {
    return this.contexts?.cancel(executionId) ?? false;
  }

  /**
   * Removes containers carrying isol8 labels whose owning process is gone (with `all`, also
   * those of running isol8 processes), and with `images`, isol8's images. Selects by label only.
   */
  static async cleanup(
    options: { docker?: DockerClient; images?: boolean; scope?: string; all?: boolean } = {},
  ): Promise<{ containers: number; images: number }> {
    const docker = options.docker ?? createDockerClient();
    const containers = await sweepContainers(docker, options.scope ? { scope: options.scope } : {}, options.all ? undefined : ownerProcessGone);
    const images = options.images ? await removeImages(docker, isol8Selector()) : 0;
    return { containers: containers.length, images };
  }

  /** Every runtime with the state of its built-in image (`GET /runtimes`). */
  runtimeStatus(): Promise<RuntimeInfo[]> {
    return runtimeStatus(this.docker, this.images.names, this.runtimes.all, SUPERVISOR_HASH);
  }

  /** The engine's image manager (used by `isol8 setup`). */
  get imageManager(): ImageManager {
    return this.images;
  }

  private async *streamEvents<E extends FileEncoding>(prepared: PreparedExecution, options: ExecuteOptions<E>): AsyncGenerator<StreamEvent<FileContent<E>>> {
    const queue = new EventQueue<StreamEvent<FileContent<E>>>();
    const abort = new AbortController();
    const forward = () => abort.abort();
    options.signal?.addEventListener("abort", forward, { once: true });
    const handlers: RunHandlers = {
      collect: false,
      signal: abort.signal,
      onStdout: (data, bytes) => queue.push({ type: "stdout", data, ...(bytes ? { base64: bytes.toString("base64") } : {}) }),
      onStderr: (data, bytes) => queue.push({ type: "stderr", data, ...(bytes ? { base64: bytes.toString("base64") } : {}) }),
    };
    const done = this.runAudited(prepared, handlers, options.audit).then(
      async (result) => queue.push({ type: "exit", data: summarize(encodeFiles(await this.withArtifacts(result), options.fileEncoding)) }),
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

  private prepare(input: ExecutionRequest): PreparedExecution {
    const validated = validateRequest(input);
    // A persistent engine created for a runtime (a server session of POST /sessions) runs it by default.
    const bound = this.session ? (this.session.boundRuntime ?? this.options.runtime) : undefined;
    if (bound && validated.runtime && validated.runtime !== bound) {
      throw new ConflictError(`Cannot switch runtime from "${bound}" to "${validated.runtime}": a persistent container is bound to its first runtime`, "start another session for another runtime");
    }
    const request = bound && !validated.runtime ? { ...validated, runtime: bound } : validated;
    return prepareExecution(request, {
      config: this.config,
      runtimes: this.runtimes,
      runtimeImage: this.images.names.runtime,
      seccomp: resolveSeccomp(executionSeccomp(this.config.security, request.security)),
      isolation: request.security?.runtime ?? this.config.security.runtime,
      owner: this.instanceId,
      ownerProcess: this.ownerProcess,
      scope: this.options.scope,
      requestDefaults: this.requestDefaults,
      oneShot: !this.session && !this.pool,
      autoRemove: Boolean(this.options.removeInBackground) && !this.options.persist,
    });
  }

  private contextSet(operation: string): ContextSet {
    if (!this.contexts) {
      throw new Isol8Error(`Cannot ${operation}: contexts live only in a persistent engine`, 'create it with new DockerIsol8({ mode: "persistent" })');
    }
    return this.contexts;
  }

  private createContextSet(): ContextSet {
    const defaults = this.config.defaults;
    return new ContextSet({
      config: this.config.contexts,
      defaults: { timeoutMs: defaults.timeoutMs, maxOutputBytes: sizeToBytes(defaults.maxOutputSize) },
      inSession: (runtime, image, work) => this.inContextSession(runtime, image, work),
      takeUid: () => this.uids.take(),
      releaseUid: (uid) => this.uids.release(uid),
      changedFiles: (sandbox) => this.artifacts!.changes(sandbox),
      audit: (context, code, result, options) => this.auditCell(context, code, result, options),
      log: this.log,
    });
  }

  /** Runs context work in the persistent container during the caller's turn (bash fits any session). */
  private async inContextSession<T>(runtime: ContextRuntime, image: string | undefined, work: (sandbox: Sandbox) => Promise<T>): Promise<T> {
    const session = this.session!;
    const asked = image ?? session.boundImage ?? undefined;
    const prepared = this.prepare({ code: "", runtime: runtime === "bash" ? (session.boundRuntime ?? "bash") : runtime, ...(asked ? { image: asked } : {}) });
    await this.ensureImage(prepared);
    const sandbox = await this.session!.acquire(prepared);
    try {
      return await work(sandbox);
    } finally {
      await this.session!.release();
    }
  }

  private auditCell(context: EngineContext, code: string, result: CellResult, options: CellOptions): void {
    if (!this.audit) return;
    void this.audit.cell({
      runtime: context.runtime,
      code,
      result,
      startedAt: new Date(Date.now() - result.durationMs),
      containerId: this.session?.containerId ?? null,
      context: options.audit ?? {},
    });
  }

  /** Runs file work in the persistent container (created on demand for its runtime). */
  private async inSession<T>(operation: string, work: (sandbox: Sandbox) => Promise<T>): Promise<T> {
    if (!this.session) {
      throw new Isol8Error(`Cannot ${operation}: files persist only in a persistent engine`, 'create it with new DockerIsol8({ mode: "persistent" })');
    }
    const prepared = this.prepare({ code: "", runtime: this.session.boundRuntime ?? this.options.runtime ?? "python" });
    await this.ensureImage(prepared);
    const sandbox = await this.session.acquire(prepared);
    try {
      return await work(sandbox);
    } finally {
      await this.session.release();
    }
  }

  private async ensureImage(prepared: PreparedExecution): Promise<void> {
    const ref = prepared.spec.image;
    if (this.ensured.has(ref)) return;
    if (prepared.builtinImage) await this.images.ensure(prepared.runtime, this.options.onImageProgress);
    else await this.images.ensurePresent(ref, prepared.runtime.name);
    this.ensured.add(ref);
  }

  /** The image an execution runs on: one with its packages baked in when there is one (not for sessions), present. */
  private async resolveImage(requested: PreparedExecution): Promise<PreparedExecution> {
    let prepared = requested;
    if (requested.install && requested.builtinImage && !this.session) {
      const baked = await findBakedImage(this.docker, this.images.names, requested.runtime.name, requested.install.packages, SUPERVISOR_HASH);
      if (baked) {
        this.log(`using ${baked.ref}: it holds ${requested.install.packages.join(" ")}`);
        prepared = onBakedImage(requested, baked.ref);
      }
    }
    await this.ensureImage(prepared);
    return prepared;
  }

  /** One execution through the pipeline, audited when the audit log is on (one record whatever the outcome). */
  private runAudited(prepared: PreparedExecution, handlers: RunHandlers, context: AuditContext = {}): Promise<ExecutionResult<Uint8Array>> {
    const running = this.audit
      ? this.audit.run(prepared, handlers, context, (teed) => runPipeline(this.pipeline, prepared, teed))
      : runPipeline(this.pipeline, prepared, handlers);
    const started = performance.now();
    const requestId = context.requestId !== undefined ? { requestId: context.requestId } : {};
    const runtime = prepared.runtime.name;
    return running.then(
      (result) => {
        this.observe({ type: "execution", runtime, outcome: executionOutcome(result), durationMs: result.durationMs, phases: result.phases, ...requestId });
        return result;
      },
      (error: unknown) => {
        this.observe({ type: "execution", runtime, outcome: "error", durationMs: performance.now() - started, phases: null, ...requestId });
        throw error;
      },
    );
  }

  /** After a run: kept for inspection (`--persist`), else back to its provider (cleaned or removed in the background). */
  private releaseContainer(sandbox: Sandbox, reusable: boolean): void {
    if (this.options.persist) {
      sandbox.detach();
      this.log(`container ${sandbox.id} kept for inspection`);
      return;
    }
    // Not awaited: cleaning (pool) or removal (cold) happens after the result is returned.
    this.track(this.containers.release(sandbox, reusable));
  }

  /** Why the base of the run directories may not hold this engine's sockets (runDirProblem), or null. */
  private checkedRunDir(): string | null {
    if (this.runDirChecked === undefined) this.runDirChecked = claimRunDir(this.runDirBase);
    return this.runDirChecked;
  }

  /**
   * Where the supervisor's direct channel listens, when the engine may use one: the config
   * allows it, Docker is on this machine (bind mounts name host paths) and the run directory
   * is the user's own. Otherwise the attach stream serves (said once in the debug log).
   */
  private channelDir(): string | undefined {
    if (!this.config.security.directChannel || !this.docker.endpoint?.startsWith("unix:")) return undefined;
    const problem = this.checkedRunDir();
    if (problem === null) return join(this.runDir, "channels");
    if (!this.attachOnlySaid) this.log(`direct channel not used: ${problem}; the attach stream serves (set ISOL8_RUN_DIR to a directory of your own)`);
    this.attachOnlySaid = true;
    return undefined;
  }

  /** The engine's filtering proxy, started with the first filtered container. */
  private sandboxNetwork(): SandboxNetwork {
    const problem = this.checkedRunDir();
    if (problem) {
      throw new Isol8Error(
        `Cannot use the run directory "${this.runDirBase}" for the filtered network's sockets: ${problem}`,
        "remove it, or set ISOL8_RUN_DIR to a directory of your own that only you can write",
      );
    }
    this.network ??= new SandboxNetwork(join(this.runDir, "proxy"), {
      hosts: this.config.network.hosts,
      allowedPorts: this.config.network.allowedPorts,
      allowedCidrs: this.config.network.allowedCidrs,
      log: this.log,
      onRequest: (action) => this.observe({ type: "proxy-request", action }),
    });
    return this.network;
  }

  /** Removes containers of owners that are certainly gone (never this engine's), in the background. */
  private sweepOrphans(): void {
    const work = sweepContainers(this.docker, { kind: "sandbox" }, (c) => c.labels[LABEL_OWNER] !== this.instanceId && ownerProcessGone(c)).then(
      (removed) => removed.length && this.log(`removed ${removed.length} container(s) left by isol8 processes that are gone`),
    );
    void this.track(work);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    const guarded = work.catch((error) => {
      this.log(`cleanup failed: ${formatError(error)}`);
      return undefined as T;
    });
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
    return guarded;
  }
}

/** The seccomp settings of an execution: the request's when it names a mode, else the config's. */
function executionSeccomp(config: Isol8Config["security"], asked: ExecutionRequest["security"]): Pick<Isol8Config["security"], "seccomp" | "customProfilePath"> {
  if (asked?.seccomp === undefined) return config;
  return { seccomp: asked.seccomp, customProfilePath: asked.customProfilePath ?? config.customProfilePath };
}

function summarize<F extends string | Uint8Array>(result: ExecutionResult<F>): ExecutionSummary<F> {
  const { stdout: _stdout, stderr: _stderr, stdoutBase64: _stdoutBase64, stderrBase64: _stderrBase64, ...summary } = result;
  return summary;
}

/** The result with its output files as the caller asked: bytes as read, or base64 text (the default). */
function encodeFiles<E extends FileEncoding>(result: ExecutionResult<Uint8Array>, encoding: E | undefined): ExecutionResult<FileContent<E>> {
  if (encoding === "bytes" || !result.files) return result as ExecutionResult<FileContent<E>>;
  const files = Object.fromEntries(Object.entries(result.files).map(([path, bytes]) => [path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")]));
  return { ...result, files } as ExecutionResult<FileContent<E>>;
}
