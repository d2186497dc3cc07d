import type Docker from "dockerode";
import type { IsolationRuntime, NetworkMode } from "../protocol/execution";
import { LABEL_SANDBOX_UID } from "./labels";
import { SANDBOX_DIR } from "./paths";
import { type StandbyProgram, standbyEnv } from "./standby";
import { zygoteEnv } from "./zygote";

/** Where the supervisor writes the passwd and group files /etc/passwd and /etc/group link to. */
export const IDENTITY_DIR = "/etc/isol8";
/** The container environment variable that gives the supervisor its sandbox uid. */
export const SANDBOX_UID_ENV = "ISOL8_SANDBOX_UID";
/** Under gVisor: the pidsLimit, which the supervisor sets as every program's RLIMIT_NPROC. */
export const PROCESS_LIMIT_ENV = "ISOL8_PROCESS_LIMIT";
/** The engine's direct channel socket, as the container sees it (supervisor.c CHANNEL_ENV). */
export const CHANNEL_SOCKET_ENV = "ISOL8_CHANNEL_SOCKET";

/** Capabilities the root supervisor keeps; user programs get none of them (see supervisor.c). */
export const SUPERVISOR_CAPS = ["SETUID", "SETGID", "SETPCAP", "KILL"] as const;

export type SeccompSetting = { mode: "strict" | "custom"; profile: string } | { mode: "unconfined" };

/**
 * The name each isolation runtime is registered under with Docker (`runtimes` in daemon.json;
 * .ci/provision-gvisor.sh registers gVisor's `runsc`). runc is named explicitly, so a daemon
 * whose default runtime is something else still gives what the spec says.
 */
export const DOCKER_RUNTIME_NAMES: Readonly<Record<IsolationRuntime, string>> = { runc: "runc", gvisor: "runsc" };

/** Everything that decides how a sandbox container is created. */
export interface SandboxSpec {
  image: string;
  memoryBytes: number;
  cpu: number;
  pidsLimit: number;
  sandboxBytes: number;
  tmpBytes: number;
  network: NetworkMode;
  seccomp: SeccompSetting;
  /** runc, or gVisor's user-space kernel around the whole container. */
  isolation: IsolationRuntime;
  labels: Record<string, string>;
  name?: string;
  /** Python: the supervisor starts the zygote every program of the container is forked from (zygote.ts). */
  zygote?: boolean;
  /** Node and bun: the program the supervisor starts ahead of each execution (standby.ts). */
  standby?: StandbyProgram;
  /**
   * One-shot containers of the CLI: Docker removes the container itself once it exits
   * (AutoRemove), and its stdin closes when the engine's attach closes (StdinOnce), which ends
   * the supervisor. The engine then need not wait for a removal (sandbox.ts `letGo`).
   */
  autoRemove?: boolean;
}

const SHM_BYTES = 64 * 1024 * 1024;

/**
 * gVisor's kernel runs in the container's cgroup: its own threads (about 60) and, for each
 * sandbox process, host stub processes and threads count against the host's pids limit, and
 * gVisor keeps many of those stubs after the process has ended. Measured on a 6.18 kernel:
 * 16 live children took a fresh container from 60 to 142 host tasks, 32 more in the same
 * container to 307, and 56 more stopped it at the old room of 8 per process. Docker's limit
 * for a gVisor container leaves this room; past it gVisor's kernel stops and the execution
 * ends with its container (see docs/SECURITY.md, "gVisor"), and a pool lets go of a
 * container that holds more than half of it after its clean (gvisorReuseProblem).
 */
export const GVISOR_PIDS = { base: 64, perProcess: 12 } as const;

/** The pids limit Docker enforces for a spec: the spec's own under runc, with gVisor's room under gVisor. */
export function hostPidsLimit(spec: Pick<SandboxSpec, "pidsLimit" | "isolation">): number {
  return spec.isolation === "gvisor" ? GVISOR_PIDS.base + GVISOR_PIDS.perProcess * spec.pidsLimit : spec.pidsLimit;
}

/**
 * Why a cleaned gVisor container should not serve another execution, or null: the host tasks
 * it still holds (`tasks`, host-tasks.ts; null where they cannot be read) leave less than half the
 * room for sandbox processes, so a next program that starts as many processes as its
 * pidsLimit allows could stop it. Under runc every task is a sandbox process, killed by the
 * clean: nothing to check. Pure.
 */
export function gvisorReuseProblem(spec: Pick<SandboxSpec, "pidsLimit" | "isolation">, tasks: number | null): string | null {
  if (spec.isolation !== "gvisor" || tasks === null) return null;
  const most = GVISOR_PIDS.base + (GVISOR_PIDS.perProcess * spec.pidsLimit) / 2;
  return tasks > most ? `gVisor still holds ${tasks} host tasks of its ${hostPidsLimit(spec)} (more than ${most})` : null;
}
const IDENTITY_BYTES = 256 * 1024;

/** Per-container resources created just before the container (not part of the pool key). */
export interface SandboxAttachments {
  /** The uid (and gid) this container's programs run as: each container has its own (sandbox-uids.ts). */
  uid: number;
  /** Filtered mode: host directory with the proxy's root-only socket, and the in-container port. */
  proxy?: { hostDir: string; mount: string; socket: string; port: number };
  /** The engine's direct channel: host directory with its root-only socket (supervisor/direct-channel.ts). */
  channel?: { hostDir: string; mount: string; socket: string };
}

/**
 * The security-critical mapping from a sandbox spec to Docker's create options.
 * Pure: the same spec always gives the same options (table-tested in container-options.test.ts).
 */
export function toContainerOptions(spec: SandboxSpec, attachments: SandboxAttachments): Docker.ContainerCreateOptions {
  const { uid, proxy, channel } = attachments;
  const binds = [...(proxy ? [`${proxy.hostDir}:${proxy.mount}:ro`] : []), ...(channel ? [`${channel.hostDir}:${channel.mount}:ro`] : [])];
  const securityOpt = ["no-new-privileges:true"];
  securityOpt.push(spec.seccomp.mode === "unconfined" ? "seccomp=unconfined" : `seccomp=${spec.seccomp.profile}`);
  return {
    Image: spec.image,
    ...(spec.name ? { name: spec.name } : {}),
    Labels: { ...spec.labels, [LABEL_SANDBOX_UID]: String(uid) },
    // The supervisor starts as root with the four capabilities below and runs each
    // program as this container's uid with empty capability sets.
    User: "0:0",
    WorkingDir: SANDBOX_DIR,
    // Container env never carries per-execution values (secrets travel with each execution);
    // the supervisor removes the uid entry from what programs inherit.
    Env: [
      `${SANDBOX_UID_ENV}=${uid}`,
      // gVisor's kernel refuses a fork past each uid's RLIMIT_NPROC (EAGAIN, as pids.max does
      // under runc); the host's pids limit, shared with gVisor's own threads, stops the sandbox.
      ...(spec.isolation === "gvisor" ? [`${PROCESS_LIMIT_ENV}=${spec.pidsLimit}`] : []),
      ...(proxy ? [`ISOL8_PROXY_PORT=${proxy.port}`, `ISOL8_PROXY_SOCKET=${proxy.mount}/${proxy.socket}`] : []),
      // The supervisor connects to it at start and takes it out of the environment programs inherit.
      ...(channel ? [`${CHANNEL_SOCKET_ENV}=${channel.mount}/${channel.socket}`] : []),
      // The supervisor takes it out of the environment programs inherit.
      ...(spec.zygote ? [zygoteEnv()] : []),
      ...(spec.standby ? [standbyEnv(spec.standby)] : []),
    ],
    Tty: false,
    OpenStdin: true,
    StdinOnce: spec.autoRemove === true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    // Filtered mode has no network either: only loopback, where the forwarder to the proxy listens.
    // (Without a network Docker writes no /etc/hosts: the images resolve localhost through NSS.)
    NetworkDisabled: spec.network !== "host",

    HostConfig: {
      ReadonlyRootfs: true,
      Tmpfs: {
        [SANDBOX_DIR]: `rw,exec,nosuid,nodev,size=${spec.sandboxBytes},uid=${uid},gid=${uid},mode=0755`,
        "/tmp": `rw,noexec,nosuid,nodev,size=${spec.tmpBytes},mode=1777`,
        // Root-owned: the supervisor writes the sandbox user's passwd/group entries here at
        // start; the sandbox uid cannot change them.
        [IDENTITY_DIR]: `rw,noexec,nosuid,nodev,size=${IDENTITY_BYTES},mode=0755`,
      },
      ShmSize: Math.min(SHM_BYTES, spec.tmpBytes),
      CapDrop: ["ALL"],
      CapAdd: [...SUPERVISOR_CAPS],
      SecurityOpt: securityOpt,
      Privileged: false,
      // gVisor keeps every setting above (its sentry enforces them) and puts its own kernel
      // between the program and the host's.
      Runtime: DOCKER_RUNTIME_NAMES[spec.isolation],
      NetworkMode: spec.network === "host" ? "host" : "none",
      ...(binds.length ? { Binds: binds } : {}),
      IpcMode: "private",
      Memory: spec.memoryBytes,
      MemorySwap: spec.memoryBytes, // swap included: no swapping past the limit
      NanoCpus: Math.round(spec.cpu * 1e9),
      PidsLimit: hostPidsLimit(spec),
      Ulimits: [
        { Name: "nofile", Soft: 4096, Hard: 4096 },
        { Name: "core", Soft: 0, Hard: 0 },
      ],
      // Program output travels over the attach stream; nothing is written to container logs.
      LogConfig: { Type: "none", Config: {} },
      AutoRemove: spec.autoRemove === true,
      Init: false,
    },
  };
}
