// Which process owns a container, and whether it is gone. A pid alone is not an identity:
// pids are reused, and a killed process stays a zombie (still "alive" to kill -0) until
// reaped. An owner is its pid, the kernel's start time of that process and the boot it
// belongs to; it is gone when that exact process no longer runs.
import { readFileSync } from "node:fs";

export interface OwnerIdentity {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22); null off Linux. */
  start: string | null;
  /** The kernel's boot id; null off Linux. */
  boot: string | null;
}

const read = (path: string): string | null => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
};

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces and parentheses). */
function statFields(pid: number, readText: (path: string) => string | null): string[] | null {
  const text = readText(`/proc/${pid}/stat`);
  if (!text) return null;
  return text.slice(text.lastIndexOf(")") + 2).trim().split(" ");
}

/** This process's identity. */
export function currentOwner(readText: (path: string) => string | null = read): OwnerIdentity {
  const fields = statFields(process.pid, readText);
  return {
    pid: process.pid,
    start: fields?.[19] ?? null, // field 22 overall; fields here start at field 3 (state)
    boot: readText("/proc/sys/kernel/random/boot_id")?.trim() ?? null,
  };
}

/**
 * Whether the owner described by `owner` is certainly gone. Unknown (another machine's boot,
 * no /proc) counts as not gone: a container is never removed on a guess.
 */
export function ownerGone(
  owner: { pid: number; start?: string; boot?: string },
  readText: (path: string) => string | null = read,
  alive: (pid: number) => boolean = processAlive,
): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  const here = readText("/proc/sys/kernel/random/boot_id")?.trim() ?? null;
  if (owner.boot && here && owner.boot !== here) return false; // another machine (or a reboot: then sweeps by age)
  const fields = statFields(owner.pid, readText);
  if (here && owner.start) {
    if (!fields) return true; // no such process
    if (fields[0] === "Z" || fields[0] === "X") return true; // dead, not yet reaped
    return fields[19] !== owner.start; // the pid now belongs to another process
  }
  return !alive(owner.pid); // no identity recorded (older containers) or no /proc
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
