import { createHash } from "node:crypto";
import { ImageError, RequestError } from "../../errors";
import type { Runtime } from "../../runtimes/registry";
import type { DockerClient } from "../docker";
import { isol8Labels, isol8Selector, LABEL_APT_PACKAGES, LABEL_INPUTS, LABEL_PACKAGES, LABEL_RUNTIME, LABEL_SUPERVISOR } from "../labels";
import { aptInstallStep, validateAptPackages } from "./apt-packages";
import type { ImageNames } from "./image-names";
import { tarStream } from "./tar";

/** Packages baked into an image, sorted, space-separated. */

export interface BakedImage {
  ref: string;
  runtime: string;
  packages: string[];
}

/** Validates package names with the runtime's own pattern (data, never options, URLs or shell). */
export function validatePackages(runtime: Runtime, packages: readonly string[]): string[] {
  if (!runtime.bake || !runtime.install) {
    throw new RequestError(`Cannot bake packages for ${runtime.name}: not supported for ${runtime.name}`, "packages");
  }
  const pattern = new RegExp(runtime.install.pattern);
  const bad = packages.find((p) => !pattern.test(p));
  if (bad !== undefined) {
    throw new RequestError(`Cannot install ${JSON.stringify(bad)}: not a plain ${runtime.name} package name`, "packages");
  }
  // Named as a run's installPackages names them (e.g. "npm:" for deno), so a run finds the image.
  const prefix = runtime.install.prefix;
  const named = packages.map((p) => (prefix && !/^[a-z]+:/.test(p) ? `${prefix}${p}` : p));
  return [...new Set(named)].sort();
}

/** The tag of the image with exactly these packages on the runtime image (by a hash). */
export function bakedTag(names: ImageNames, runtime: Runtime, packages: readonly string[], baseId: string, apt: readonly string[] = []): string {
  // Without Debian packages the hash input is what it always was: existing baked images keep their tags.
  const inputs = apt.length ? { runtime: runtime.name, packages, baseId, apt } : { runtime: runtime.name, packages, baseId };
  const hash = createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 16);
  return names.baked(runtime.name, hash);
}

/** The Dockerfile of a baked image (exec-form RUN: package names never meet a shell); Debian packages first. */
export function bakedDockerfile(names: ImageNames, runtime: Runtime, packages: readonly string[], apt: readonly string[] = []): string {
  const steps: string[] = [];
  if (apt.length) steps.push("WORKDIR /", aptInstallStep(apt));
  if (packages.length) {
    const argv = runtime.bake!.argv.flatMap((part) => (part === "{packages}" ? packages : [part]));
    steps.push(
      `WORKDIR ${runtime.bake!.workdir}`,
      ...(runtime.bake!.before ?? []).map((step) => `RUN ${JSON.stringify(step)}`),
      `RUN ${JSON.stringify(argv)}`,
      ...(runtime.bake!.then ?? []).map((step) => `RUN ${JSON.stringify(step)}`),
    );
  }
  return [`FROM ${names.runtime(runtime.name)}`, ...steps, "WORKDIR /sandbox", ""].join("\n");
}

/**
 * Builds (or finds up to date) an image with packages installed at build time, `FROM` the
 * runtime image; tagged by a hash of runtime + sorted packages (+ `tag` when given).
 */
export async function bakeImage(
  docker: DockerClient,
  names: ImageNames,
  runtime: Runtime,
  packages: readonly string[],
  options: { tag?: string; force?: boolean; onLine?: (line: string) => void; apt?: readonly string[] } = {},
): Promise<{ ref: string; built: boolean }> {
  const sorted = packages.length ? validatePackages(runtime, packages) : [];
  const apt = validateAptPackages(options.apt ?? []);
  if (!sorted.length && !apt.length) throw new RequestError("Cannot bake an image: no packages given", "packages");
  const base = await docker.inspectImage(names.runtime(runtime.name));
  if (!base) throw new ImageError(`Cannot bake packages: "${names.runtime(runtime.name)}" is missing`, "run isol8 setup first");
  const ref = bakedTag(names, runtime, sorted, base.id, apt);
  const inputs = ref.slice(ref.lastIndexOf("-") + 1);
  const existing = await docker.inspectImage(ref);
  const built = Boolean(options.force) || existing?.labels[LABEL_INPUTS] !== inputs;
  if (built) {
    const labels = isol8Labels("image", {
      [LABEL_RUNTIME]: runtime.name,
      [LABEL_PACKAGES]: sorted.join(" "),
      ...(apt.length ? { [LABEL_APT_PACKAGES]: apt.join(" ") } : {}),
      [LABEL_INPUTS]: inputs,
      [LABEL_SUPERVISOR]: base.labels[LABEL_SUPERVISOR],
    });
    const context = tarStream([{ name: "Dockerfile", content: bakedDockerfile(names, runtime, sorted, apt) }]);
    await docker.build(context, { tag: ref, labels, ...(options.onLine ? { onLine: options.onLine } : {}) });
  }
  if (options.tag) await docker.tag(ref, options.tag);
  return { ref: options.tag ?? ref, built };
}

/**
 * The smallest baked image of a runtime whose packages include all of `wanted`, among those
 * built on this engine's supervisor (images of other isol8 versions speak another protocol).
 */
export async function findBakedImage(
  docker: DockerClient,
  names: ImageNames,
  runtime: string,
  wanted: readonly string[],
  supervisor: string,
): Promise<BakedImage | null> {
  const images = await docker.listImages(isol8Selector({ runtime }, { [LABEL_PACKAGES]: undefined, [LABEL_SUPERVISOR]: supervisor }));
  const prefix = `${names.repository}-deps:`;
  // Only images tagged in this repository: an untagged one (left by an interrupted bake or
  // replaced by a newer one) may be pruned at any time, and another repository's belongs to
  // another installation.
  const candidates = images
    .flatMap((image) => {
      const ref = image.tags.find((t) => t.startsWith(prefix));
      return ref ? [{ ref, runtime, packages: (image.labels[LABEL_PACKAGES] ?? "").split(" ").filter(Boolean) }] : [];
    })
    .filter((image) => wanted.every((p) => image.packages.includes(p)))
    .sort((a, b) => a.packages.length - b.packages.length);
  return candidates[0] ?? null;
}
