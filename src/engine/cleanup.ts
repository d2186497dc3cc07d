// Removing isol8's containers, written once: the CLI's `cleanup`, DockerIsol8.cleanup(), a
// server's shutdown and its reclaim of dead servers, and the test preload all use these.
import type { ContainerSummary, DockerClient } from "./docker";
import { DockerUnavailableError } from "../errors";
import { isol8Selector, LABEL_BOOT, LABEL_PID, LABEL_PID_START, type Selection } from "./labels";
import { ownerGone } from "./owner";

/** Containers carrying isol8 labels that match the selection (and `filter`, when given). */
export async function findContainers(
  docker: DockerClient,
  selection: Selection,
  filter: (container: ContainerSummary) => boolean = () => true,
): Promise<ContainerSummary[]> {
  return (await docker.listContainers(isol8Selector(selection))).filter(filter);
}

/** Removes exactly these containers (gone ones count as removed); returns how many. */
export async function removeContainers(docker: DockerClient, containers: readonly ContainerSummary[]): Promise<number> {
  await Promise.all(containers.map((container) => docker.remove(container.id)));
  return containers.length;
}

/** Finds and removes the matching containers; returns the ones removed. */
export async function sweepContainers(
  docker: DockerClient,
  selection: Selection,
  filter?: (container: ContainerSummary) => boolean,
): Promise<ContainerSummary[]> {
  const found = await findContainers(docker, selection, filter);
  await removeContainers(docker, found);
  return found;
}

/** The container's owning process is certainly gone (its pid, start time and boot say so). */
export function ownerProcessGone(container: ContainerSummary): boolean {
  const labels = container.labels;
  return ownerGone({
    pid: Number(labels[LABEL_PID]),
    ...(labels[LABEL_PID_START] ? { start: labels[LABEL_PID_START] } : {}),
    ...(labels[LABEL_BOOT] ? { boot: labels[LABEL_BOOT] } : {}),
  });
}

/**
 * Removes one container, retrying while Docker cannot be reached (a daemon restarting comes
 * back within seconds), for up to about `budgetMs`. Gone containers count as removed.
 */
export async function removeWithRetries(
  docker: DockerClient,
  id: string,
  budgetMs = 60_000,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<void> {
  let waited = 0;
  // Short steps: a restarted daemon answers again within seconds, and a container left
  // stopped meanwhile is a leftover until this removal gets through.
  for (let delay = 250; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      await docker.remove(id);
      return;
    } catch (error) {
      if (!(error instanceof DockerUnavailableError) || waited + delay > budgetMs) throw error;
      await sleep(delay);
      waited += delay;
    }
  }
}
