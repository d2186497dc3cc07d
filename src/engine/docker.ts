// The only module that imports dockerode. Everything else talks to this interface,
// which tests can replace.
import type { Duplex, Readable } from "node:stream";
import Docker from "dockerode";
import { DockerUnavailableError, ImageError, Isol8Error } from "../errors";

export interface ContainerSummary {
  id: string;
  names: string[];
  image: string;
  state: string;
  labels: Record<string, string>;
  created: number;
}

export interface ImageSummary {
  id: string;
  tags: string[];
  labels: Record<string, string>;
}

export interface ImageInspect {
  id: string;
  labels: Record<string, string>;
  created: string;
}

export interface BuildOptions {
  tag: string;
  labels: Record<string, string>;
  buildArgs?: Record<string, string>;
  /** Called for every line of build output. */
  onLine?: (line: string) => void;
}

/** What the daemon says about itself (`docker info`), the parts `isol8 doctor` judges. */
export interface DaemonInfo {
  serverVersion: string;
  kernelVersion: string;
  operatingSystem: string;
  /** As the daemon reports it, e.g. "1.1.5+ds1-1+deb12u1" (distribution suffix kept). */
  runcVersion: string;
  cgroupVersion: string;
  cgroupDriver: string;
  memoryLimit: boolean;
  swapLimit: boolean;
  pidsLimit: boolean;
  cpuCfsQuota: boolean;
  /** e.g. ["name=seccomp,profile=default", "name=userns"]. */
  securityOptions: string[];
  /** Registered runtimes: name -> path and arguments. */
  runtimes: Record<string, { path?: string; runtimeArgs?: string[] }>;
  defaultRuntime: string;
  dockerRootDir: string;
}

export interface DockerClient {
  /** Where the daemon is expected, for messages. */
  readonly endpoint: string;
  /** Checks Docker answers within `timeoutMs` (default: its bound). */
  ping(timeoutMs?: number): Promise<void>;
  /** The daemon's own description (`docker info`). */
  info(): Promise<DaemonInfo>;
  createContainer(options: Docker.ContainerCreateOptions): Promise<string>;
  /** Attaches stdin/stdout/stderr (multiplexed) as one raw duplex stream. */
  attach(id: string): Promise<Duplex>;
  start(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Resolves once Docker has removed the container (AutoRemove after it exits; gone already: at once). */
  waitRemoved(id: string): Promise<void>;
  inspectContainer(id: string): Promise<Docker.ContainerInspectInfo | null>;
  listContainers(labels: Record<string, string | undefined>): Promise<ContainerSummary[]>;
  inspectImage(ref: string): Promise<ImageInspect | null>;
  listImages(labels: Record<string, string | undefined>): Promise<ImageSummary[]>;
  removeImage(ref: string): Promise<void>;
  /** Gives an image another name (`repo:tag`). */
  tag(source: string, target: string): Promise<void>;
  pull(ref: string, onLine?: (line: string) => void): Promise<void>;
  build(context: Readable, options: BuildOptions): Promise<void>;
}

function endpointOf(): string {
  return process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number; status?: number }).statusCode ?? (error as { status?: number }).status;
}

/** Turns connection failures into one clear DockerUnavailableError; passes others through. */
function wrap(endpoint: string, error: unknown): Error {
  const code = (error as { code?: string }).code;
  if (code && ["ENOENT", "ECONNREFUSED", "EACCES", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"].includes(code)) {
    // One line that says what is wrong and how to fix it (the CLI prints it as is).
    const fix =
      code === "EACCES"
        ? "run as root or add your user to the docker group"
        : "start the Docker daemon (sudo systemctl start docker, or .ci/provision-docker.sh from the isol8 repository) or set DOCKER_HOST";
    return new DockerUnavailableError(
      `Cannot connect to Docker at "${endpoint}": ${code === "EACCES" ? "permission denied" : "the daemon is not answering"} (${code}); ${fix}`,
    );
  }
  if (error instanceof Isol8Error) return error;
  const message = (error as { json?: { message?: string } }).json?.message ?? (error as Error).message ?? String(error);
  return Object.assign(new Isol8Error(message.trim()), { status: statusOf(error) });
}

/**
 * How long each kind of Docker call may take before isol8 gives up on it (a hung or overloaded
 * daemon must not hang an execution: the engine's deadline counts on these). Builds and pulls
 * are not bounded: they report progress and can take minutes.
 */
export const DOCKER_CALL_BOUNDS_MS = {
  ping: 5_000,
  create: 30_000,
  attach: 15_000,
  start: 30_000,
  remove: 30_000,
  inspect: 10_000,
  list: 15_000,
  tag: 15_000,
  removeImage: 60_000,
} as const;

/**
 * A client of the local daemon. `onError` is told the kind of every failed call (metrics;
 * "not found" and "already being removed" are answers, not failures).
 */
export function createDockerClient(options: Docker.DockerOptions = {}, onError: (operation: string) => void = () => {}): DockerClient {
  const docker = new Docker(options);
  const endpoint = endpointOf();
  /** Runs one Docker call within its bound; failures become isol8 errors with the fix. */
  const call = async <T>(kind: keyof typeof DOCKER_CALL_BOUNDS_MS, action: string, fn: (signal: AbortSignal) => Promise<T>, boundMs?: number): Promise<T> => {
    const ms = boundMs ?? DOCKER_CALL_BOUNDS_MS[kind];
    const signal = AbortSignal.timeout(ms);
    try {
      return await fn(signal);
    } catch (error) {
      const status = statusOf(error);
      if (status !== 404 && status !== 409) onError(kind);
      if (signal.aborted) {
        // One line: the state says what to check.
        throw new DockerUnavailableError(`Cannot ${action}: Docker at "${endpoint}" did not answer within ${ms / 1000} s (overloaded or restarting?)`);
      }
      throw wrap(endpoint, error);
    }
  };
  const notFoundToNull = async <T>(action: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T | null> => {
    try {
      return await call("inspect", action, fn);
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  };
  /** Follows a build or pull progress stream; an error event in it fails the operation. */
  const follow = (stream: NodeJS.ReadableStream, onLine?: (line: string) => void) =>
    new Promise<void>((resolve, reject) => {
      let failure: string | undefined;
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : failure ? reject(new Error(failure)) : resolve()),
        (event: { stream?: string; status?: string; progress?: string; error?: string; errorDetail?: { message?: string } }) => {
          if (event.error || event.errorDetail) {
            failure ??= (event.errorDetail?.message ?? event.error ?? "failed").trim();
            return;
          }
          const text = event.stream ?? (event.status ? `${event.status}${event.progress ? ` ${event.progress}` : ""}` : "");
          for (const line of text.split("\n")) if (line.trim()) onLine?.(line.trimEnd());
        },
      );
    });
  const unbounded = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      onError(operation);
      throw wrap(endpoint, error);
    }
  };

  return {
    endpoint,
    ping: (timeoutMs) =>
      call("ping", "reach Docker", async (abortSignal) => void (await (docker.ping as (opts: object) => Promise<unknown>)({ abortSignal })), timeoutMs),
    info: () =>
      call("inspect", "ask Docker about itself", async () => {
        const raw = (await docker.info()) as Record<string, unknown>;
        const text = (key: string) => (typeof raw[key] === "string" ? (raw[key] as string) : "");
        const flag = (key: string) => raw[key] === true;
        return {
          serverVersion: text("ServerVersion"),
          kernelVersion: text("KernelVersion"),
          operatingSystem: text("OperatingSystem"),
          runcVersion: ((raw.RuncCommit as { ID?: string } | undefined)?.ID ?? "").trim(),
          cgroupVersion: text("CgroupVersion") || "1",
          cgroupDriver: text("CgroupDriver"),
          memoryLimit: flag("MemoryLimit"),
          swapLimit: flag("SwapLimit"),
          pidsLimit: flag("PidsLimit"),
          cpuCfsQuota: flag("CpuCfsQuota"),
          securityOptions: Array.isArray(raw.SecurityOptions) ? (raw.SecurityOptions as string[]) : [],
          runtimes: (raw.Runtimes as DaemonInfo["runtimes"] | undefined) ?? {},
          defaultRuntime: text("DefaultRuntime"),
          dockerRootDir: text("DockerRootDir"),
        };
      }),
    createContainer: (opts) => call("create", "create a container", async (abortSignal) => (await docker.createContainer({ ...opts, abortSignal })).id),
    // No abort signal here: it would stay attached to the hijacked stream and cut it later.
    // The attach is raced instead; a stream that arrives too late is destroyed.
    attach: (id) =>
      call("attach", "attach to a container", (abortSignal) => {
        const attaching = docker
          .getContainer(id)
          .attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }) as unknown as Promise<Duplex>;
        return new Promise<Duplex>((resolve, reject) => {
          const late = () => {
            reject(Object.assign(new Error("attach timed out"), { code: "ETIMEDOUT" }));
            void attaching.then((stream) => stream.destroy(), () => {});
          };
          abortSignal.addEventListener("abort", late, { once: true });
          attaching.then(
            (stream) => {
              abortSignal.removeEventListener("abort", late);
              resolve(stream);
            },
            (error) => {
              abortSignal.removeEventListener("abort", late);
              reject(error);
            },
          );
        });
      }),
    start: (id) => call("start", "start a container", async (abortSignal) => void (await docker.getContainer(id).start({ abortSignal }))),
    remove: async (id) => {
      try {
        await call("remove", "remove a container", (abortSignal) => docker.getContainer(id).remove({ force: true, v: true, abortSignal }));
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) return; // gone
        if (status !== 409) throw error;
        // Its removal is already in progress (another caller): removed means gone, so wait for it.
        const until = performance.now() + DOCKER_CALL_BOUNDS_MS.remove;
        while (performance.now() < until) {
          const found = await notFoundToNull("inspect a container", (abortSignal) => docker.getContainer(id).inspect({ abortSignal }));
          if (found === null) return;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        throw error;
      }
    },
    waitRemoved: async (id) => {
      try {
        await call("remove", "wait for a container's removal", (abortSignal) => docker.getContainer(id).wait({ condition: "removed", abortSignal }));
      } catch (error) {
        if (statusOf(error) !== 404) throw error; // 404: gone already
      }
    },
    inspectContainer: (id) => notFoundToNull("inspect a container", (abortSignal) => docker.getContainer(id).inspect({ abortSignal })),
    listContainers: (labels) =>
      call("list", "list containers", async (abortSignal) =>
        (await docker.listContainers({ all: true, filters: { label: toLabelFilters(labels) }, abortSignal })).map((c) => ({
          id: c.Id,
          names: c.Names,
          image: c.Image,
          state: c.State,
          labels: c.Labels ?? {},
          created: c.Created,
        })),
      ),
    inspectImage: (ref) =>
      notFoundToNull("inspect an image", async (abortSignal) => {
        const image = docker.getImage(ref) as unknown as { inspect(opts: object): Promise<Docker.ImageInspectInfo> };
        const info = await image.inspect({ abortSignal });
        return { id: info.Id, labels: info.Config?.Labels ?? {}, created: info.Created };
      }),
    listImages: (labels) =>
      call("list", "list images", async (abortSignal) =>
        (await docker.listImages({ filters: { label: toLabelFilters(labels) }, abortSignal })).map((i) => ({
          id: i.Id,
          tags: i.RepoTags ?? [],
          labels: i.Labels ?? {},
        })),
      ),
    removeImage: async (ref) => {
      try {
        await call("removeImage", "remove an image", (abortSignal) => docker.getImage(ref).remove({ force: true, abortSignal }));
      } catch (error) {
        if (statusOf(error) === 404) return;
        throw error;
      }
    },
    tag: (source, target) =>
      call("tag", "tag an image", async (abortSignal) => {
        const colon = target.lastIndexOf(":");
        const [repo, tag] = colon > target.lastIndexOf("/") ? [target.slice(0, colon), target.slice(colon + 1)] : [target, "latest"];
        await docker.getImage(source).tag({ repo, tag, abortSignal });
      }),
    pull: (ref, onLine) =>
      unbounded("pull", async () => {
        const stream = (await docker.pull(ref)) as NodeJS.ReadableStream;
        await follow(stream, onLine);
      }),
    build: (context, opts) =>
      unbounded("build", async () => {
        let stream: NodeJS.ReadableStream;
        try {
          stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
            t: opts.tag,
            labels: opts.labels,
            buildargs: opts.buildArgs,
            forcerm: true,
            rm: true,
            pull: false,
          } as Docker.ImageBuildOptions);
        } catch (error) {
          throw wrap(endpoint, error);
        }
        try {
          await follow(stream, opts.onLine);
        } catch (error) {
          throw new ImageError(`Cannot build image "${opts.tag}": ${(error as Error).message.trim()}`);
        }
      }),
  };
}

function toLabelFilters(labels: Record<string, string | undefined>): string[] {
  return Object.entries(labels).map(([key, value]) => (value === undefined ? key : `${key}=${value}`));
}
