import { readFileSync } from "node:fs";

/**
 * Where a Docker container's pids cgroup keeps its task count on this host, in the layouts
 * Docker's two cgroup drivers make under cgroup v1 and v2. Pure.
 */
export function pidsCurrentFiles(containerId: string): string[] {
  return [
    `/sys/fs/cgroup/pids/docker/${containerId}/pids.current`,
    `/sys/fs/cgroup/pids/system.slice/docker-${containerId}.scope/pids.current`,
    `/sys/fs/cgroup/docker/${containerId}/pids.current`,
    `/sys/fs/cgroup/system.slice/docker-${containerId}.scope/pids.current`,
  ];
}

/**
 * The tasks (processes and threads, gVisor's own included) a container's pids cgroup counts
 * now, read from this host's cgroup filesystem; null where it is not visible (a remote Docker,
 * an engine inside a container). Not `docker stats`: the daemon answers a second request for
 * the same container within a second only at its next sample, a second later (measured).
 */
export function readHostTasks(containerId: string, read: (path: string) => string = (path) => readFileSync(path, "utf8")): number | null {
  for (const file of pidsCurrentFiles(containerId)) {
    let text: string;
    try {
      text = read(file);
    } catch {
      continue;
    }
    const tasks = Number(text.trim());
    return Number.isInteger(tasks) && tasks >= 0 ? tasks : null;
  }
  return null;
}
