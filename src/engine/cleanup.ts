// Removing isol8's containers, written once: the CLI's `cleanup`, DockerIsol8.cleanup(), a
// server's shutdown and its reclaim of dead servers, and the test preload all use these.
import type { ContainerSummary, DockerClient } from "./docker";
import { isol8Selector, LABEL_PID, type Selection } from "./labels";

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

/** Is a process with this pid running (EPERM: yes, owned by someone else)? */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The container's owning process (its pid label) is gone. */
export function ownerProcessGone(container: ContainerSummary): boolean {
  return !processAlive(Number(container.labels[LABEL_PID]));
}
