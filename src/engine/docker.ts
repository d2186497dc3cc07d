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

export interface DockerClient {
  /** Where the daemon is expected, for messages. */
  readonly endpoint: string;
  ping(): Promise<void>;
  createContainer(options: Docker.ContainerCreateOptions): Promise<string>;
  /** Attaches stdin/stdout/stderr (multiplexed) as one raw duplex stream. */
  attach(id: string): Promise<Duplex>;
  start(id: string): Promise<void>;
  remove(id: string): Promise<void>;
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
  return (error as { statusCode?: number }).statusCode;
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
  return new Isol8Error(message.trim());
}

export function createDockerClient(options: Docker.DockerOptions = {}): DockerClient {
  const docker = new Docker(options);
  const endpoint = endpointOf();
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw wrap(endpoint, error);
    }
  };
  const notFoundToNull = async <T>(fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw wrap(endpoint, error);
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

  return {
    endpoint,
    ping: () =>
      call(async () => {
        await Promise.race([
          docker.ping(),
          new Promise((_, reject) =>
            setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })), 10_000).unref(),
          ),
        ]);
      }),
    createContainer: (opts) => call(async () => (await docker.createContainer(opts)).id),
    attach: (id) =>
      call(
        async () =>
          (await docker
            .getContainer(id)
            .attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex,
      ),
    start: (id) => call(async () => void (await docker.getContainer(id).start())),
    remove: async (id) => {
      try {
        await docker.getContainer(id).remove({ force: true, v: true });
      } catch (error) {
        const status = statusOf(error);
        if (status === 404 || status === 409) return; // gone, or removal already in progress
        throw wrap(endpoint, error);
      }
    },
    inspectContainer: (id) => notFoundToNull(() => docker.getContainer(id).inspect()),
    listContainers: (labels) =>
      call(async () =>
        (await docker.listContainers({ all: true, filters: { label: toLabelFilters(labels) } })).map((c) => ({
          id: c.Id,
          names: c.Names,
          image: c.Image,
          state: c.State,
          labels: c.Labels ?? {},
          created: c.Created,
        })),
      ),
    inspectImage: (ref) =>
      notFoundToNull(async () => {
        const info = await docker.getImage(ref).inspect();
        return { id: info.Id, labels: info.Config?.Labels ?? {}, created: info.Created };
      }),
    listImages: (labels) =>
      call(async () =>
        (await docker.listImages({ filters: { label: toLabelFilters(labels) } })).map((i) => ({
          id: i.Id,
          tags: i.RepoTags ?? [],
          labels: i.Labels ?? {},
        })),
      ),
    removeImage: async (ref) => {
      try {
        await docker.getImage(ref).remove({ force: true });
      } catch (error) {
        if (statusOf(error) === 404) return;
        throw wrap(endpoint, error);
      }
    },
    tag: (source, target) =>
      call(async () => {
        const colon = target.lastIndexOf(":");
        const [repo, tag] = colon > target.lastIndexOf("/") ? [target.slice(0, colon), target.slice(colon + 1)] : [target, "latest"];
        await docker.getImage(source).tag({ repo, tag });
      }),
    pull: (ref, onLine) =>
      call(async () => {
        const stream = (await docker.pull(ref)) as NodeJS.ReadableStream;
        await follow(stream, onLine);
      }),
    build: (context, opts) =>
      call(async () => {
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
