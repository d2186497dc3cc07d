import { createHash } from "node:crypto";
import { DOCKERFILES, STANDBY_PROGRAMS, SUPERVISOR_SOURCE } from "../../assets";
import type { Isol8Config } from "../../config/schema";
import { ImageError } from "../../errors";
import type { Runtime, RuntimeName } from "../../runtimes/registry";
import type { DockerClient } from "../docker";
import { artifactLabel, isol8Labels, LABEL_INPUTS, LABEL_REGISTRY_HOSTS, LABEL_RUNTIME, LABEL_SUPERVISOR } from "../labels";
import { hostsFrom, queryImage } from "./query-image";
import { ensureBaseOs } from "./base-os";
import { collectCaCertificates } from "./ca-certs";
import { fetchArtifact, npmRegistry, type ResolvedArtifact, resolveArtifact } from "./npm-artifacts";
import type { ImageNames } from "./image-names";
import { type TarEntry, tarStream } from "./tar";

export type ImageState = "checking" | "up-to-date" | "building" | "built" | "failed";

export interface ImageProgress {
  /** The image this event is about (`isol8:python`, ...). */
  image: string;
  state?: ImageState;
  /** A sentence for the user (decisions: debootstrap fallback, CA certificates, ...). */
  message?: string;
  /** A line of build output. */
  line?: string;
}

export interface ImageManagerOptions {
  docker: DockerClient;
  /** What the images are called. */
  names: ImageNames;
  images: Isol8Config["images"];
  /** Where downloaded runtime binaries are cached (verified on every use). */
  cacheDir: string;
  fetch?: typeof fetch;
  env?: NodeJS.ProcessEnv;
}

export interface SetupResult {
  image: string;
  state: "up-to-date" | "built";
  ms: number;
}

const hashOf = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 24);

/** Identifies the supervisor wire protocol an image speaks (its source's hash, with the standby programs it starts). */
export const SUPERVISOR_HASH = hashOf({ supervisor: SUPERVISOR_SOURCE, standby: STANDBY_PROGRAMS });

export interface ImageManager {
  readonly names: ImageNames;
  /** Makes sure a runtime's image exists, building it (and the base) when missing. */
  ensure(runtime: Runtime, onProgress?: (event: ImageProgress) => void): Promise<string>;
  /** Package-registry hosts recorded on an image at setup (empty when none). Cached. */
  registryHosts(ref: string): Promise<string[]>;
  /** Checks a custom image is present (never built). */
  ensurePresent(ref: string, runtime: RuntimeName): Promise<void>;
  /** Builds every image whose inputs changed (all with `force`); up-to-date ones are skipped. */
  setup(
    runtimes: readonly Runtime[],
    options: { force?: boolean; onProgress?: (event: ImageProgress) => void },
  ): Promise<SetupResult[]>;
}

export function createImageManager(options: ImageManagerOptions): ImageManager {
  const { docker, names } = options;
  const inFlight = new Map<string, Promise<unknown>>();
  const registryCache = new Map<string, string[]>();
  const once = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const running = inFlight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const started = fn().finally(() => inFlight.delete(key));
    inFlight.set(key, started);
    return started;
  };

  async function buildBase(force: boolean, onProgress: (e: ImageProgress) => void): Promise<SetupResult> {
    const t0 = performance.now();
    const image = names.base;
    onProgress({ image, state: "checking" });
    const baseOs = await ensureBaseOs({
      docker,
      image: options.images.baseImage,
      say: (message) => onProgress({ image, message }),
      onLine: (line) => onProgress({ image, line }),
    });
    const { certificates, unreadable } = collectCaCertificates({
      fromHost: options.images.hostCaCertificates,
      files: options.images.caCertificateFiles,
      env: options.env,
    });
    for (const file of unreadable) onProgress({ image, message: `cannot read CA certificate file "${file}": skipped` });
    const inputs = hashOf({
      dockerfile: DOCKERFILES.base,
      supervisor: SUPERVISOR_SOURCE,
      standby: STANDBY_PROGRAMS,
      baseOs: baseOs.id,
      certificates: certificates.map((c) => c.name),
    });
    const existing = await docker.inspectImage(image);
    if (!force && existing?.labels[LABEL_INPUTS] === inputs) {
      onProgress({ image, state: "up-to-date" });
      return { image, state: "up-to-date", ms: performance.now() - t0 };
    }
    if (certificates.length > 0) onProgress({ image, message: `trusting ${certificates.length} extra CA certificate(s) from the host` });
    onProgress({ image, state: "building" });
    const entries: TarEntry[] = [
      { name: "Dockerfile", content: DOCKERFILES.base! },
      { name: "supervisor.c", content: SUPERVISOR_SOURCE },
      ...Object.entries(STANDBY_PROGRAMS).map(([name, content]) => ({ name: `standby/${name}`, content })),
      { name: "ca/.keep", content: "" },
      ...certificates.map((c) => ({ name: `ca/${c.name}`, content: c.pem })),
    ];
    await build(
      image,
      entries,
      { BASE_IMAGE: baseOs.ref },
      { [LABEL_INPUTS]: inputs, [LABEL_SUPERVISOR]: SUPERVISOR_HASH },
      onProgress,
    );
    return { image, state: "built", ms: performance.now() - t0 };
  }

  async function buildRuntime(
    runtime: Runtime,
    force: boolean,
    onProgress: (e: ImageProgress) => void,
  ): Promise<SetupResult> {
    const t0 = performance.now();
    const image = names.runtime(runtime.name);
    onProgress({ image, state: "checking" });
    const base = await docker.inspectImage(names.base);
    if (!base) throw new ImageError(`Cannot build "${image}": "${names.base}" is missing`);
    const existing = await docker.inspectImage(image);
    let resolved: ResolvedArtifact[];
    let registry: string | undefined;
    try {
      registry = runtime.artifacts.length ? npmRegistry(options.env) : undefined;
      resolved = await resolveArtifacts(runtime, registry);
    } catch (error) {
      if (existing && !force) {
        onProgress({ image, message: `cannot check for newer ${runtime.name} binaries (${(error as Error).message}): keeping the present image` });
        onProgress({ image, state: "up-to-date" });
        return { image, state: "up-to-date", ms: performance.now() - t0 };
      }
      throw error;
    }
    const inputs = hashOf({
      dockerfile: DOCKERFILES[runtime.dockerfile],
      base: base.labels[LABEL_INPUTS] ?? base.id,
      artifacts: resolved.map((a) => `${a.name}@${a.version} ${a.integrity}`),
      registry: registry ?? null,
      registryQuery: runtime.registryQuery ?? null,
    });
    if (!force && existing?.labels[LABEL_INPUTS] === inputs) {
      onProgress({ image, state: "up-to-date" });
      return { image, state: "up-to-date", ms: performance.now() - t0 };
    }
    onProgress({ image, state: "building" });
    const entries: TarEntry[] = [{ name: "Dockerfile", content: DOCKERFILES[runtime.dockerfile]! }];
    for (const [i, artifact] of resolved.entries()) {
      onProgress({ image, message: `fetching ${artifact.name}@${artifact.version}` });
      const path = await fetchArtifact(artifact, options.cacheDir, options.fetch);
      entries.push({ name: runtime.artifacts[i]!.file, path });
    }
    const labels = {
      [LABEL_INPUTS]: inputs,
      [LABEL_RUNTIME]: runtime.name,
      [LABEL_SUPERVISOR]: base.labels[LABEL_SUPERVISOR] ?? "",
      ...Object.fromEntries(resolved.map((a) => [artifactLabel(a.name), a.version])),
    };
    await build(image, entries, { BASE_IMAGE: names.base, ...(registry ? { NPM_REGISTRY: registry } : {}) }, labels, onProgress);
    if (runtime.registryQuery) {
      // The package manager in the image says where it installs from; the label carries it to
      // filtered executions that install packages (their registry hosts get allowed).
      const hosts = hostsFrom(await queryImage(docker, image, runtime.registryQuery));
      onProgress({ image, message: `package registry: ${hosts.join(", ") || "(none found)"}` });
      const relabel: TarEntry[] = [{ name: "Dockerfile", content: `FROM ${image}\n` }];
      const linesOnly = (event: ImageProgress) => event.line && onProgress({ image, line: event.line });
      await build(image, relabel, {}, { ...labels, [LABEL_REGISTRY_HOSTS]: hosts.join(",") }, linesOnly);
    }
    return { image, state: "built", ms: performance.now() - t0 };
  }

  async function resolveArtifacts(runtime: Runtime, registry: string | undefined): Promise<ResolvedArtifact[]> {
    if (runtime.artifacts.length === 0 || !registry) return [];
    return Promise.all(
      runtime.artifacts.map((artifact) => {
        const name = artifact.packages[process.arch];
        if (!name) throw new ImageError(`Cannot build "${runtime.name}" for CPU "${process.arch}": no binary package for it`);
        return resolveArtifact(registry, name, artifact.major, options.fetch);
      }),
    );
  }

  async function build(
    image: string,
    entries: TarEntry[],
    buildArgs: Record<string, string>,
    labels: Record<string, string>,
    onProgress: (e: ImageProgress) => void,
  ): Promise<void> {
    const tail: string[] = [];
    try {
      await docker.build(tarStream(entries), {
        tag: image,
        buildArgs,
        labels: isol8Labels("image", labels),
        onLine: (line) => {
          tail.push(line);
          if (tail.length > 8) tail.shift();
          onProgress({ image, line });
        },
      });
    } catch (error) {
      onProgress({ image, state: "failed", message: (error as Error).message });
      if (error instanceof ImageError) {
        throw new ImageError(error.message, tail.length ? `last build output: ${tail.slice(-3).join(" | ")}` : undefined);
      }
      throw error;
    }
    onProgress({ image, state: "built" });
  }

  /** Present and built with this engine's supervisor (older images speak an older protocol). */
  const current = async (ref: string) => (await docker.inspectImage(ref))?.labels[LABEL_SUPERVISOR] === SUPERVISOR_HASH;

  const ensureBase = (onProgress: (e: ImageProgress) => void) =>
    once("base", async () => {
      if (!(await current(names.base))) await buildBase(false, onProgress);
    });

  return {
    names,
    ensure: (runtime, onProgress = () => {}) =>
      once(`runtime:${runtime.name}`, async () => {
        const image = names.runtime(runtime.name);
        if (await current(image)) return image;
        if (await docker.inspectImage(image)) onProgress({ image, message: "built by another isol8 version: rebuilding" });
        await ensureBase(onProgress);
        await buildRuntime(runtime, false, onProgress);
        return image;
      }),
    async registryHosts(ref) {
      let hosts = registryCache.get(ref);
      if (!hosts) {
        const label = (await docker.inspectImage(ref))?.labels[LABEL_REGISTRY_HOSTS] ?? "";
        hosts = label.split(",").filter(Boolean);
        registryCache.set(ref, hosts);
      }
      return hosts;
    },
    async ensurePresent(ref, runtime) {
      if (!(await docker.inspectImage(ref))) {
        throw new ImageError(`Cannot start runtime "${runtime}": image "${ref}" not found`, "build it, or run `isol8 setup` for the built-in images");
      }
    },
    async setup(runtimes, { force = false, onProgress = () => {} }) {
      const results = [await buildBase(force, onProgress)];
      for (const runtime of runtimes) results.push(await buildRuntime(runtime, force, onProgress));
      return results;
    },
  };
}
