import { ConfigError } from "../../errors";
import type { RuntimeName } from "../../runtimes/registry";

/** The repository of isol8's own images unless ISOL8_IMAGE_REPOSITORY (or the engine option) says otherwise. */
export const DEFAULT_IMAGE_REPOSITORY = "isol8";

/**
 * Names of the images isol8 builds. All live under one repository, so two isol8 versions (or
 * checkouts) on one Docker host can keep separate images instead of rebuilding each other's.
 * The debootstrap base OS does not depend on isol8's version and is shared.
 */
export interface ImageNames {
  readonly repository: string;
  /** The base every runtime image is built on (`isol8:base`). */
  readonly base: string;
  /** A runtime's image (`isol8:python`). */
  runtime(name: RuntimeName): string;
  /** An image with packages baked in (`isol8-deps:python-<hash>`). */
  baked(name: RuntimeName, hash: string): string;
}

const REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

export function imageNames(repository: string = DEFAULT_IMAGE_REPOSITORY): ImageNames {
  if (!REPOSITORY.test(repository)) {
    throw new ConfigError(`Cannot use image repository "${repository}": not a Docker repository name`, "use lower-case letters, digits, '.', '_', '-' and '/'");
  }
  return {
    repository,
    base: `${repository}:base`,
    runtime: (name) => `${repository}:${name}`,
    baked: (name, hash) => `${repository}-deps:${name}-${hash}`,
  };
}
