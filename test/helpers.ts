import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { DockerIsol8, type DockerIsol8Options } from "../src/engine/engine";
import { createDockerClient } from "../src/engine/docker";
import { findContainers } from "../src/engine/cleanup";
import { DEFAULT_IMAGE_REPOSITORY, imageNames } from "../src/engine/images/image-names";
import type { Isol8ConfigInput } from "../src/config/schema";
import type { IsolationRuntime } from "../src/protocol/execution";

/** The images tests run on: those of $ISOL8_IMAGE_REPOSITORY (a second checkout uses its own), else isol8:*. */
export const TEST_IMAGES = imageNames(process.env.ISOL8_IMAGE_REPOSITORY || DEFAULT_IMAGE_REPOSITORY);

/** Label value on every container a test creates (swept by test/preload.ts). */
export const TEST_SCOPE = "isol8-test";
export const ROOT = join(import.meta.dir, "..");
export const BINARY = join(ROOT, "dist", "isol8");

/**
 * The isolation runtime the Docker tests run under: $ISOL8_TEST_ISOLATION (the matrix tier of
 * .ci/run sets "gvisor"), else runc. A test whose expectation differs under gVisor reads it.
 */
export const TEST_ISOLATION: IsolationRuntime = process.env.ISOL8_TEST_ISOLATION === "gvisor" ? "gvisor" : "runc";

/**
 * $ISOL8_TEST_PYTHON_ZYGOTE=off runs the Docker tests with the python zygote off
 * (security.pythonZygote false) unless a test sets it: the same tests then cover the path that
 * starts python3 per execution.
 */
export const TEST_PYTHON_ZYGOTE = process.env.ISOL8_TEST_PYTHON_ZYGOTE !== "off";

/**
 * $ISOL8_TEST_DIRECT_CHANNEL=off runs the Docker tests over the attach stream
 * (security.directChannel false) unless a test sets it.
 */
export const TEST_DIRECT_CHANNEL = process.env.ISOL8_TEST_DIRECT_CHANNEL !== "off";

/** An engine whose containers carry the test scope label and run under TEST_ISOLATION. Stop it in afterAll. */
export function testEngine(options: DockerIsol8Options = {}): DockerIsol8 {
  const config: Isol8ConfigInput = options.config ?? {};
  const own = (config.security ?? {}) as { runtime?: IsolationRuntime; pythonZygote?: boolean; directChannel?: boolean };
  const security = {
    ...own,
    runtime: own.runtime ?? TEST_ISOLATION,
    pythonZygote: own.pythonZygote ?? TEST_PYTHON_ZYGOTE,
    directChannel: own.directChannel ?? TEST_DIRECT_CHANNEL,
  };
  return new DockerIsol8({ scope: TEST_SCOPE, ...options, config: { ...config, security } });
}

/** Containers of this test process that still exist. */
export async function liveTestContainers(): Promise<string[]> {
  const docker = createDockerClient();
  const list = await findContainers(docker, { scope: TEST_SCOPE, pid: process.pid });
  return list.map((c) => c.id);
}

/** Runs the compiled binary (build it first: npm run build). */
export function runBinary(
  args: string[],
  options: { cwd?: string; input?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(BINARY, args, {
    cwd: options.cwd ?? ROOT,
    input: options.input ?? "",
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Host processes whose command line contains the marker (proves nothing of a run survived). */
export function hostProcessesMatching(marker: string): string[] {
  const ps = spawnSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return ps.stdout.split("\n").filter((line) => line.includes(marker) && !line.includes("ps -eo"));
}
