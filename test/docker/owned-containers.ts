import { createDockerClient } from "../../src/engine/docker";
import type { DockerIsol8 } from "../../src/engine/engine";
import { findContainers } from "../../src/engine/cleanup";

/**
 * Containers (running or not) that still carry this engine's owner label. Selecting by
 * owner rather than by the test scope keeps the check true when other test files or
 * other engineers' runs share the Docker daemon.
 */
export async function ownedContainers(engine: DockerIsol8): Promise<string[]> {
  const list = await findContainers(createDockerClient(), { owner: engine.instanceId });
  return list.map((c) => c.id);
}
