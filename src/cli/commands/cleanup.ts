import { createInterface } from "node:readline/promises";
import { createDockerClient } from "../../engine/docker";
import { removeImages } from "../../engine/images/remove-images";
import { findContainers, ownerProcessGone, removeContainers } from "../../engine/cleanup";
import { isol8Selector, LABEL_KIND } from "../../engine/labels";
import { defineIsol8Command } from "../command";
import { nodeStream, standardError, standardInput, standardOutput } from "../std-streams";

const cleanupArgs = {
  force: { type: "boolean", description: "Do not ask for confirmation" },
  images: { type: "boolean", description: "Also remove isol8 images" },
  all: { type: "boolean", description: "Also remove containers of isol8 processes that are still running (a server's pool and sessions)" },
} as const;

export default defineIsol8Command({
  meta: { name: "cleanup", description: "Remove containers left by isol8 processes that are gone (--all: every isol8 container; --images: images too)" },
  args: cleanupArgs,
  config: false,
  async run({ flags: args }) {
    const docker = createDockerClient();
    await docker.ping();
    // ISOL8_SCOPE narrows the sweep to one scope label (used by the test suite).
    const scope = process.env.ISOL8_SCOPE;
    const labelled = await findContainers(docker, scope ? { scope } : {});
    // A running server's or CLI's containers are theirs to remove: taking them mid-run would end
    // their executions with "container stopped". Only --all takes them too.
    const containers = args.all ? labelled : labelled.filter(ownerProcessGone);
    const kept = labelled.length - containers.length;
    if (kept) standardError().write(`isol8: keeping ${kept} container(s) of isol8 processes that are still running (--all removes them too)\n`);
    const images = args.images ? await docker.listImages(isol8Selector()) : [];
    for (const c of containers) {
      standardOutput().write(`container ${c.id.slice(0, 12)} ${c.state} ${c.labels[LABEL_KIND] ?? ""} ${c.image}\n`);
    }
    for (const i of images) standardOutput().write(`image ${i.id.slice(7, 19)} ${i.tags.join(",") || "(untagged)"}\n`);
    if (containers.length + images.length === 0) {
      standardOutput().write("nothing to remove\n");
      return 0;
    }
    if (!args.force && standardInput().isTTY) {
      const rl = createInterface({ input: nodeStream("stdin"), output: nodeStream("stderr") });
      const answer = await rl.question(`Remove ${containers.length} container(s) and ${images.length} image(s)? [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        standardOutput().write("nothing removed\n");
        return 1;
      }
    }
    // Remove exactly what was listed (and confirmed), not a second, later listing.
    await removeContainers(docker, containers);
    const removedImages = args.images ? await removeImages(docker, isol8Selector()) : 0;
    standardOutput().write(`removed ${containers.length} container(s), ${removedImages} image(s)\n`);
    return 0;
  },
});
