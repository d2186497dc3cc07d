// Test preload (bunfig.toml), for every `bun test` run of this repository:
// - the per-test default timeout: real-Docker tests start containers, and under gVisor or on a
//   busy 2-core machine a test of several executions takes longer than bun's 5 s default (a
//   preload's setDefaultTimeout applies to every file; tests that need more still set their own);
// - removes containers that earlier, killed test runs left behind. Selects by label only: the
//   test scope, and an owner process that is gone.
import { setDefaultTimeout } from "bun:test";
import { ownerProcessGone, sweepContainers } from "../src/engine/cleanup";
import { createDockerClient } from "../src/engine/docker";
import { TEST_SCOPE } from "./helpers";

setDefaultTimeout(60_000);

try {
  const dead = await sweepContainers(createDockerClient(), { scope: TEST_SCOPE }, ownerProcessGone);
  if (dead.length) console.error(`preload: removed ${dead.length} container(s) left by earlier test runs`);
} catch {
  // No Docker: the tests that need it report that themselves.
}
