import type { DockerClient } from "../docker";

/**
 * Removes every image carrying the labels, untagging each name and then the image itself.
 * A parent image cannot go while a child exists, so failures are retried after the others
 * (children first, whatever order Docker lists them in). Returns how many were removed.
 */
export async function removeImages(docker: DockerClient, labels: Record<string, string | undefined>): Promise<number> {
  let left = await docker.listImages(labels);
  let removed = 0;
  for (let pass = 0; pass < 5 && left.length > 0; pass++) {
    const failed: typeof left = [];
    for (const image of left) {
      try {
        for (const tag of image.tags.filter((t) => t !== "<none>:<none>")) await docker.removeImage(tag);
        await docker.removeImage(image.id);
        removed++;
      } catch {
        failed.push(image);
      }
    }
    if (failed.length === left.length) break; // no progress: something outside isol8 holds them
    left = failed;
  }
  return removed;
}
