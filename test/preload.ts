// Test preload (bunfig.toml): removes containers that earlier, killed test runs left
// behind. Selects by label only: the test scope, and an owner process that is gone.
import { createDockerClient } from "../src/engine/docker";
import { LABEL_PID, LABEL_SCOPE } from "../src/engine/labels";
import { processAlive } from "../src/server/reclaim";
import { TEST_SCOPE } from "./helpers";

try {
  const docker = createDockerClient();
  const leftovers = await docker.listContainers({ [LABEL_SCOPE]: TEST_SCOPE });
  const dead = leftovers.filter((c) => !processAlive(Number(c.labels[LABEL_PID])));
  await Promise.all(dead.map((c) => docker.remove(c.id)));
  if (dead.length) console.error(`preload: removed ${dead.length} container(s) left by earlier test runs`);
} catch {
  // No Docker: the tests that need it report that themselves.
}
