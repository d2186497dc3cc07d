// The checks of `isol8 doctor`: one entry each, in the order they print. Each asks Docker (or
// the host) one thing and hands the answer to a pure verdict in verdicts.ts.
import { statfsSync } from "node:fs";
import type { Isol8Config } from "../config/schema";
import type { DaemonInfo, DockerClient } from "../engine/docker";
import { SUPERVISOR_HASH } from "../engine/images/image-manager";
import type { ImageNames } from "../engine/images/image-names";
import { LABEL_SUPERVISOR } from "../engine/labels";
import { formatError } from "../errors";
import type { RuntimeName } from "../runtimes/registry";
import { type Check, fail, pass, warn } from "./check";
import { cgroupVerdict, configVerdict, diskVerdict, dockerVersionVerdict, gvisorVerdict, runcVerdict, seccompVerdict, usernsVerdict } from "./verdicts";

export interface HostContext {
  docker: DockerClient;
  config: Isol8Config;
  images: ImageNames;
  runtimeNames: readonly RuntimeName[];
  /** Docker's answer to `info`, asked once (null when Docker is not reachable). */
  info(): Promise<DaemonInfo>;
  /** Free bytes of the filesystem holding `path` (throws when this host cannot see it). */
  freeBytes(path: string): number;
}

/** Free bytes of a local filesystem. */
export function localFreeBytes(path: string): number {
  const stats = statfsSync(path);
  return stats.bavail * stats.bsize;
}

export const HOST_CHECKS: readonly Check<HostContext>[] = [
  {
    name: "Docker reachable",
    required: true,
    async run({ docker }) {
      try {
        await docker.ping();
        return pass(`Docker answers at ${docker.endpoint}`);
      } catch (error) {
        return fail(formatError(error).split("\n")[0]!, "start Docker (systemctl start docker, or .ci/provision-docker.sh) or set DOCKER_HOST");
      }
    },
  },
  {
    name: "Docker version",
    required: true,
    async run({ info }) {
      const i = await info();
      const verdict = dockerVersionVerdict(i.serverVersion);
      return { ...verdict, detail: `${verdict.detail} (kernel ${i.kernelVersion}, ${i.operatingSystem})` };
    },
  },
  { name: "runc", required: true, run: async ({ info }) => runcVerdict((await info()).runcVersion) },
  { name: "cgroups", required: true, run: async ({ info }) => cgroupVerdict(await info()) },
  { name: "seccomp", required: true, run: async ({ info }) => seccompVerdict((await info()).securityOptions) },
  { name: "user namespaces", required: false, run: async ({ info, config }) => usernsVerdict((await info()).securityOptions, config.security.sandboxUids) },
  {
    name: "gVisor",
    // A must-have only where the config runs executions under it.
    required: ({ config }) => config.security.runtime === "gvisor",
    run: async ({ info, config }) => gvisorVerdict((await info()).runtimes, config.security.runtime === "gvisor"),
  },
  {
    name: "isol8 configuration",
    required: false,
    run: ({ config }) => configVerdict(config.security),
  },
  {
    name: "images",
    required: false,
    async run({ docker, images, runtimeNames }) {
      const missing: string[] = [];
      const stale: string[] = [];
      for (const name of runtimeNames) {
        const ref = images.runtime(name);
        const image = await docker.inspectImage(ref);
        if (!image) missing.push(ref);
        else if (image.labels[LABEL_SUPERVISOR] !== SUPERVISOR_HASH) stale.push(ref);
      }
      if (missing.length || stale.length) {
        const found = [missing.length ? `missing: ${missing.join(", ")}` : "", stale.length ? `built by another isol8 version: ${stale.join(", ")}` : ""].filter(Boolean).join("; ");
        return warn(`${found} (built on first use, which makes that run slow)`, "run isol8 setup");
      }
      return pass(`${runtimeNames.map((n) => images.runtime(n)).join(", ")} present and up to date`);
    },
  },
  {
    name: "disk space",
    required: true,
    async run({ info, freeBytes }) {
      const root = (await info()).dockerRootDir || "/var/lib/docker";
      try {
        return diskVerdict(root, freeBytes(root));
      } catch {
        return warn(`cannot see ${root} from here (a remote Docker?)`, "check free space on the Docker host yourself (at least 2 GiB)");
      }
    },
  },
];
