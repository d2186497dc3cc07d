import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageError } from "../../errors";
import type { DockerClient } from "../docker";
import { isol8Labels, LABEL_SUITE } from "../labels";
import { findMirror, readHostAptSources, sourcesListFor } from "./apt-sources";
import { commandExists, runCommand } from "./spawn";
import { tarStream } from "./tar";

export interface BaseOs {
  ref: string;
  id: string;
  /** How it was obtained, for the progress report. */
  origin: "present" | "pulled" | "built-before" | "debootstrap";
}

export interface BaseOsOptions {
  docker: DockerClient;
  /** The configured base image, e.g. `debian:bookworm-slim`. */
  image: string;
  say: (message: string) => void;
  onLine?: (line: string) => void;
}

/** The Debian suite a base image name stands for (`debian:bookworm-slim` -> `bookworm`). */
export function suiteOf(image: string): string | undefined {
  const tag = image.split(":")[1] ?? "";
  return /^([a-z]+)(?:-slim)?$/.exec(tag)?.[1];
}

/**
 * Returns a usable base image: the configured one if present or pullable; otherwise an
 * equivalent built from the host's own Debian mirror with debootstrap, tagged
 * `isol8-base-os:<suite>` so later runs reuse it.
 */
export async function ensureBaseOs(options: BaseOsOptions): Promise<BaseOs> {
  const { docker, image, say } = options;
  const present = await docker.inspectImage(image);
  if (present) return { ref: image, id: present.id, origin: "present" };
  try {
    await docker.pull(image, options.onLine);
    const pulled = await docker.inspectImage(image);
    if (pulled) return { ref: image, id: pulled.id, origin: "pulled" };
  } catch {
    // No registry reachable: fall through to a locally built equivalent.
  }
  const suite = suiteOf(image);
  if (!suite) {
    throw new ImageError(
      `Cannot get base image "${image}": not present and not pullable`,
      "load it with `docker load`, or set images.baseImage to a Debian image such as debian:bookworm-slim",
    );
  }
  const fallback = `isol8-base-os:${suite}`;
  const built = await docker.inspectImage(fallback);
  if (built) return { ref: fallback, id: built.id, origin: "built-before" };
  say(`base image "${image}" is not available and no registry answers: building "${fallback}" from the host's Debian mirror with debootstrap`);
  await debootstrapImage({ ...options, suite, tag: fallback });
  const made = await docker.inspectImage(fallback);
  if (!made) throw new ImageError(`Cannot build base image "${fallback}": the build produced no image`);
  return { ref: fallback, id: made.id, origin: "debootstrap" };
}

async function debootstrapImage(options: BaseOsOptions & { suite: string; tag: string }): Promise<void> {
  const { docker, suite, tag, say, onLine } = options;
  if (process.getuid?.() !== 0) {
    throw new ImageError(`Cannot build base image "${tag}": debootstrap needs root`, "run `isol8 setup` once as root, or load a Debian slim image with `docker load`");
  }
  const sources = readHostAptSources();
  const mirror = findMirror(sources, suite);
  if (!mirror) {
    throw new ImageError(`Cannot build base image "${tag}": no apt source of the host serves "${suite}"`, "add a Debian mirror for that suite to /etc/apt/sources.list");
  }
  if (!(await commandExists("debootstrap"))) {
    say("installing debootstrap with apt-get");
    const install = await runCommand("apt-get", ["install", "-y", "-q", "debootstrap"], onLine);
    if (install.code !== 0) {
      throw new ImageError(`Cannot install debootstrap: apt-get exited with ${install.code}`, install.tail.slice(-3).join(" | "));
    }
  }
  const work = mkdtempSync(join(tmpdir(), "isol8-debootstrap-"));
  const root = join(work, "rootfs");
  try {
    say(`debootstrap ${suite} from ${mirror}`);
    const boot = await runCommand("debootstrap", ["--variant=minbase", suite, root, mirror], onLine);
    if (boot.code !== 0) {
      throw new ImageError(`Cannot build base image "${tag}": debootstrap exited with ${boot.code}`, boot.tail.slice(-3).join(" | "));
    }
    writeFileSync(join(root, "etc/apt/sources.list"), sourcesListFor(sources, suite));
    await runCommand("sh", ["-c", `rm -rf "${root}"/var/cache/apt/archives/*.deb "${root}"/var/lib/apt/lists/* "${root}"/var/log/*`]);
    const archive = join(work, "rootfs.tar");
    const tar = await runCommand("tar", ["-C", root, "--numeric-owner", "-cf", archive, "."], onLine);
    if (tar.code !== 0) throw new ImageError(`Cannot build base image "${tag}": tar exited with ${tar.code}`);
    const context = tarStream([
      { name: "Dockerfile", content: 'FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n' },
      { name: "rootfs.tar", path: archive },
    ]);
    await docker.build(context, { tag, labels: isol8Labels("base-os", { [LABEL_SUITE]: suite }), onLine });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
