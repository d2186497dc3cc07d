// Test preload (bunfig.toml): removes containers that earlier, killed test runs left
// behind. Selects by label only: the test scope, and an owner process that is gone.
import { ownerProcessGone, sweepContainers } from "../src/engine/cleanup";
import { createDockerClient } from "../src/engine/docker";
import { TEST_SCOPE } from "./helpers";

try {
  const dead = await sweepContainers(createDockerClient(), { scope: TEST_SCOPE }, ownerProcessGone);
  if (dead.length) console.error(`preload: removed ${dead.length} container(s) left by earlier test runs`);
} catch {
  // No Docker: the tests that need it report that themselves.
}
