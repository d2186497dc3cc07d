import type { DockerClient } from "../engine/docker";
import { LABEL_KIND, LABEL_MANAGED, LABEL_OWNER, LABEL_PID } from "../engine/labels";

/** Owner ids of server instances start with this, so leftovers of dead servers can be found. */
export const SERVER_OWNER_PREFIX = "srv-";

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

/**
 * Removes sandbox containers left by server instances whose process is gone (killed with
 * SIGKILL, crashed). Containers of live servers, and of non-server engines, are kept.
 */
export async function reclaimDeadServers(docker: DockerClient, self: string): Promise<number> {
  const all = await docker.listContainers({ [LABEL_MANAGED]: "true", [LABEL_KIND]: "sandbox" });
  const dead = all.filter((c) => {
    const owner = c.labels[LABEL_OWNER] ?? "";
    return owner.startsWith(SERVER_OWNER_PREFIX) && owner !== self && !processAlive(Number(c.labels[LABEL_PID]));
  });
  await Promise.all(dead.map((c) => docker.remove(c.id)));
  return dead.length;
}

/** Removes every container this server instance owns. */
export async function removeOwned(docker: DockerClient, owner: string): Promise<number> {
  const mine = await docker.listContainers({ [LABEL_MANAGED]: "true", [LABEL_OWNER]: owner });
  await Promise.all(mine.map((c) => docker.remove(c.id)));
  return mine.length;
}
