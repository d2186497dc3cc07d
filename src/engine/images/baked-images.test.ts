import { describe, expect, test } from "bun:test";
import type { DockerClient, ImageSummary } from "../docker";
import { LABEL_PACKAGES } from "../labels";
import { findBakedImage } from "./baked-images";
import { imageNames } from "./image-names";

const image = (tags: string[], packages: string): ImageSummary => ({ id: `sha256:${tags.join("") || "untagged"}${packages}`, tags, labels: { [LABEL_PACKAGES]: packages } }) as ImageSummary;

/** A Docker client that lists `images` and can do nothing else. */
const listing = (images: ImageSummary[]) => ({ listImages: async () => images }) as unknown as DockerClient;

describe("findBakedImage", () => {
  const names = imageNames("isol8");
  test.each([
    ["the image with the fewest extra packages", [image(["isol8-deps:a"], "numpy pandas"), image(["isol8-deps:b"], "numpy")], ["numpy"], "isol8-deps:b"],
    ["an image tagged in this repository, under that tag", [image(["other:x", "isol8-deps:c"], "numpy")], ["numpy"], "isol8-deps:c"],
    ["none when the packages are not all there", [image(["isol8-deps:a"], "numpy")], ["numpy", "scipy"], null],
    ["not an untagged image (an interrupted or replaced bake)", [image([], "numpy")], ["numpy"], null],
    ["not another repository's image", [image(["isol8-other-deps:a"], "numpy")], ["numpy"], null],
  ] as const)("%s", async (_, images, wanted, expected) => {
    const found = await findBakedImage(listing([...images]), names, "python", wanted, "hash");
    expect(found?.ref ?? null).toBe(expected);
  });
});
