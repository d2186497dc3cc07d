// Faults injected from outside isol8, for the chaos tier (test/chaos/*.chaos.ts),
// bench/chaos.ts and the Docker tests that kill a process from outside. Each acts on one container (or on the Docker daemon itself) the caller
// names; none touches anything outside this machine.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { createDockerClient } from "../../src/engine/docker";

const ROOT = join(import.meta.dir, "..", "..");

const docker = (...args: string[]) => spawnSync("docker", args, { encoding: "utf8" });

/** Freezes every process of the container (cgroup freezer). */
export const pauseContainer = (id: string) => docker("pause", id);

/** Kills the container's processes from outside (SIGKILL to its init). */
export const killContainer = (id: string) => docker("kill", id);

/**
 * Kills the in-container supervisor (and its runners) with SIGKILL, as root from a `docker
 * exec`; exit status 0 once at least one was killed (the last /proc entry need not be one).
 */
export const killSupervisor = (id: string) =>
  docker("exec", "-u", "0", id, "sh", "-c", 'k=1; for p in /proc/[0-9]*; do if [ "$(cat $p/comm 2>/dev/null)" = isol8-superviso ]; then kill -9 ${p#/proc/} && k=0; fi; done; exit $k');

/**
 * Kills the container's waiting node or bun standby program with SIGKILL, as root from a
 * `docker exec`; exit status 0 when one was killed, 1 when none was waiting.
 */
export const killStandbyPrograms = (id: string) => docker("exec", "-u", "0", id, "pkill", "-KILL", "-f", "/usr/local/lib/isol8/standby/");

/** Milliseconds until Docker answers a ping (polling), or null after `limitMs`. */
export async function untilDockerAnswers(limitMs = 90_000): Promise<number | null> {
  const client = createDockerClient();
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    try {
      await client.ping(2_000);
      return Math.round(performance.now() - t0);
    } catch {
      await Bun.sleep(250);
    }
  }
  return null;
}

/**
 * Stops the Docker daemon (SIGTERM, as `systemctl stop` would: without live-restore its
 * containers are stopped) and starts it again with the project's provisioning script.
 * Returns the milliseconds Docker was unreachable.
 */
export async function restartDockerd(): Promise<number> {
  const t0 = performance.now();
  const pids = spawnSync("pgrep", ["-x", "dockerd"], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean);
  if (pids.length === 0) throw new Error("no dockerd process to restart");
  for (const pid of pids) process.kill(Number(pid), "SIGTERM");
  for (let i = 0; i < 600 && pids.some((pid) => alive(Number(pid))); i++) await Bun.sleep(100);
  const started = spawnSync(join(ROOT, ".ci", "provision-docker.sh"), [], { encoding: "utf8" });
  if (started.status !== 0) throw new Error(`dockerd did not come back: ${started.stderr}`);
  return Math.round(performance.now() - t0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
