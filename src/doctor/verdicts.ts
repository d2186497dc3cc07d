// Pure judgements of what `isol8 doctor` finds on a host (table-tested in verdicts.test.ts).
import semver from "semver";
import { fail, pass, type Verdict, warn } from "./check";

/**
 * Container escapes fixed in runc, newest last. `fixed` is the first upstream release with the
 * fix; `backports` are distribution builds of older versions that carry it (their package
 * version as Docker reports it). `required`: an escape open to any container (a must-have);
 * the others need a hostile image or mount configuration (a warning).
 */
export const RUNC_ESCAPES = [
  { id: "CVE-2019-5736", fixed: "1.0.0-rc7", required: true, backports: [] as RegExp[], what: "a container overwrites the host's runc binary" },
  // Debian bullseye's 1.0.0~rc93+ds1-5 carries the fix.
  { id: "CVE-2021-30465", fixed: "1.0.0-rc95", required: true, backports: [/^1\.0\.0~rc93\+ds1-([5-9]|\d{2,})/], what: "symlink-exchange race on mounts escapes to the host filesystem" },
  {
    id: "CVE-2024-21626",
    fixed: "1.1.12",
    required: true,
    // Debian's security updates of 1.1.5 (bookworm) and 1.0.0~rc93 (bullseye).
    backports: [/^1\.1\.5\+ds1-1\+deb12u([1-9]\d*)$/, /^1\.0\.0~rc93\+ds1-5\+deb11u([3-9]|\d{2,})$/],
    what: "a leaked host file descriptor (process.cwd) gives the host filesystem",
  },
  {
    id: "CVE-2025-31133, CVE-2025-52565, CVE-2025-52881",
    fixed: "1.2.8",
    required: false,
    backports: [],
    what: "masked-path and /dev/console races; need an image or mounts the attacker controls (isol8 builds its own images)",
  },
] as const;

/** The upstream version in Docker's runc version string ("1.1.5+ds1-1+deb12u1" -> "1.1.5"), or null. */
export function upstreamRuncVersion(reported: string): string | null {
  const match = /^v?(\d+\.\d+\.\d+)(?:[~-]rc\.?(\d+))?/.exec(reported.trim());
  if (!match) return null;
  return match[2] ? `${match[1]}-rc.${match[2]}` : match[1]!;
}

const semverOf = (version: string) => version.replace(/-rc\.?(\d+)/, "-rc.$1");

/** runc against the known container escapes. */
export function runcVerdict(reported: string): Verdict {
  const upstream = upstreamRuncVersion(reported);
  if (!upstream) return warn(`runc version "${reported || "(none reported)"}" is not one isol8 can read`, "check it by hand against the escapes listed in docs/SECURITY.md");
  const open = RUNC_ESCAPES.filter(
    (escape) => semver.lt(upstream, semverOf(escape.fixed)) && !escape.backports.some((pattern) => pattern.test(reported.trim())),
  );
  const fix = `upgrade runc (your distribution's security updates, or Docker's packages) to ${open.at(-1)?.fixed ?? ""} or later`;
  const list = (escapes: typeof open) => escapes.map((e) => `${e.id} (${e.what})`).join("; ");
  const blocking = open.filter((e) => e.required);
  if (blocking.length) return fail(`runc ${reported} is open to ${list(blocking)}`, fix);
  if (open.length) return warn(`runc ${reported} is open to ${list(open)}`, fix);
  return pass(`runc ${reported}: no known container escape`);
}

/** Docker's own version: isol8 is tested on 20.10 and later. */
export function dockerVersionVerdict(version: string): Verdict {
  // Docker's versions have leading zeros ("19.03.15"), which semver does not read.
  const parsed = semver.coerce(version.replace(/\b0+(\d)/g, "$1"));
  if (!parsed) return warn(`Docker version "${version}" is not one isol8 can read`, "use Docker 20.10 or later");
  if (semver.lt(parsed, "20.10.0")) return fail(`Docker ${version} is older than 20.10`, "upgrade Docker to 20.10 or later (seccomp profiles with errnoRet, cgroup v2)");
  return pass(`Docker ${version}`);
}

/** The controllers named in a cgroup v2 `cgroup.controllers` file. */
export function parseCgroupControllers(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}

/** cgroups: each execution limit needs its controller (memory with swap, pids, cpu quota). */
export function cgroupVerdict(info: { cgroupVersion: string; cgroupDriver: string; memoryLimit: boolean; swapLimit: boolean; pidsLimit: boolean; cpuCfsQuota: boolean }): Verdict {
  const missing = [
    ["memory", info.memoryLimit],
    ["memory+swap", info.swapLimit],
    ["pids", info.pidsLimit],
    ["cpu quota", info.cpuCfsQuota],
  ]
    .filter(([, ok]) => !ok)
    .map(([name]) => name);
  const found = `cgroup v${info.cgroupVersion} (${info.cgroupDriver || "unknown driver"})`;
  if (missing.length) {
    return fail(`${found}: Docker cannot enforce ${missing.join(", ")} limits`, "enable the cgroup controllers (kernel command line, e.g. cgroup_enable=memory swapaccount=1; or boot with cgroup v2)");
  }
  return pass(`${found}: memory, swap, pids and cpu limits enforced`);
}

/** Seccomp: isol8's profile needs a daemon built with seccomp. */
export function seccompVerdict(securityOptions: readonly string[]): Verdict {
  const seccomp = securityOptions.find((o) => o.startsWith("name=seccomp"));
  if (!seccomp) return fail("Docker has no seccomp support: isol8's system-call allowlist cannot be applied", "use a Docker build with seccomp (every distribution package has it) on a kernel with CONFIG_SECCOMP_FILTER");
  return pass(`seccomp available (${seccomp})`);
}

/** User namespaces: userns-remap / rootless map the container's root to an unprivileged host user. */
export function usernsVerdict(securityOptions: readonly string[], sandboxUids: { from: number; to: number }): Verdict {
  const remapped = securityOptions.some((o) => o === "name=userns" || o.startsWith("name=userns,"));
  const rootless = securityOptions.some((o) => o.startsWith("name=rootless"));
  if (remapped || rootless) {
    return pass(`${rootless ? "rootless Docker" : "userns-remap"}: container root is an unprivileged host user (keep security.sandboxUids ${sandboxUids.from}-${sandboxUids.to} inside the mapped range)`);
  }
  return pass("no user-namespace remapping: container root is host root; isol8 programs run as their own unprivileged uid with no capabilities (userns-remap or gVisor add a layer)");
}

/** The gVisor runtime and the arguments isol8 needs (.ci/provision-gvisor.sh registers them). */
export const GVISOR_RUNTIME_ARGS = ["--network=none", "--host-uds=open", "--oci-seccomp"] as const;

export function gvisorVerdict(runtimes: Record<string, { path?: string; runtimeArgs?: string[] }>, wanted: boolean): Verdict {
  const runsc = runtimes.runsc;
  const fix = "install gVisor (Debian: apt-get install runsc) and register it as runtime \"runsc\" with " + `${GVISOR_RUNTIME_ARGS.join(" ")} in /etc/docker/daemon.json, then reload dockerd (kill -HUP): .ci/provision-gvisor.sh does both`;
  const missingVerdict = wanted ? fail : warn;
  if (!runsc) return missingVerdict("gVisor (runtime \"runsc\") is not registered with Docker: security.runtime \"gvisor\" cannot run", fix);
  const args = runsc.runtimeArgs ?? [];
  const missing = GVISOR_RUNTIME_ARGS.filter((arg) => !args.includes(arg));
  if (missing.length) return missingVerdict(`runtime "runsc" lacks ${missing.join(" ")}`, fix);
  return pass(`gVisor registered as "runsc" (${runsc.path ?? "runsc"} ${args.join(" ")})`);
}

/** Free space where Docker keeps images and container layers. */
export function diskVerdict(path: string, freeBytes: number): Verdict {
  const gib = freeBytes / 1024 ** 3;
  const found = `${gib.toFixed(1)} GiB free in ${path}`;
  if (gib < 0.5) return fail(found, "free space for Docker (docker image prune removes unused images you own)");
  if (gib < 2) return warn(found, "isol8's images need about 2 GiB; free space for Docker");
  return pass(found);
}

/** The config's own security settings: anything but the strict profile is weaker. */
export function configVerdict(security: { seccomp: string; runtime: string }): Verdict {
  const runtime = `security.runtime "${security.runtime}"`;
  if (security.seccomp === "unconfined") return warn(`security.seccomp "unconfined": programs run without a system-call allowlist (${runtime})`, 'set security.seccomp "strict" (isol8 doctor --attack shows what it lets through)');
  if (security.seccomp === "custom") return warn(`security.seccomp "custom": the allowlist is your own profile (${runtime})`, "check it with isol8 doctor --attack");
  return pass(`security.seccomp "strict", ${runtime}`);
}
