import { createDockerClient } from "../../src/engine/docker";
import type { DockerIsol8 } from "../../src/engine/engine";
import { bakeImage } from "../../src/engine/images/baked-images";
import { createRuntimeRegistry } from "../../src/runtimes/registry";

/** Debian's numeric and plotting stack: the image rich-output tests run on (`isol8 build --apt`). */
export const DATA_IMAGE_APT = ["python3-matplotlib", "python3-numpy", "python3-pandas", "python3-pil"];

/**
 * The data image, built with isol8's own apt baking on first use and reused by its hashed tag
 * afterwards (.ci/run builds it in its image step). A few minutes once.
 */
export async function ensureDataImage(engine: DockerIsol8): Promise<string> {
  const python = createRuntimeRegistry().get("python");
  await engine.imageManager.ensure(python);
  const baked = await bakeImage(createDockerClient(), engine.imageManager.names, python, [], { apt: DATA_IMAGE_APT });
  return baked.ref;
}
