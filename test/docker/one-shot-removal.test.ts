// One-shot containers removed by Docker (removeInBackground, the CLI's mode): after a clean
// run the engine lets go (AutoRemove, StdinOnce) and stop({ waitMs: 0 }) returns at once; Docker
// then removes the container itself. Runs that did not end clean are still removed by the
// engine, waited for. Either way no container is left behind (I13).
import { afterAll, describe, expect, test } from "bun:test";
import { createDockerClient } from "../../src/engine/docker";
import { findContainers } from "../../src/engine/cleanup";
import { TEST_SCOPE, testEngine } from "../helpers";

const docker = createDockerClient();
const mine = () => findContainers(docker, { scope: TEST_SCOPE, pid: process.pid });

/** Polls until Docker lists none of this process's containers (or the bound passes). */
async function untilNoneLeft(boundMs = 20_000): Promise<string[]> {
  const until = performance.now() + boundMs;
  for (;;) {
    const left = (await mine()).map((c) => c.id);
    if (left.length === 0 || performance.now() > until) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterAll(async () => {
  expect(await untilNoneLeft()).toEqual([]);
});

describe("one-shot containers removed by Docker", () => {
  test("a clean run: the container is AutoRemove and exits once let go; Docker removes it without the engine asking", async () => {
    const engine = testEngine({ pool: false, removeInBackground: true });
    await engine.start();
    const result = await engine.execute({ runtime: "python", code: "print('hi')" });
    expect(result.stdout).toBe("hi\n");
    const info = await docker.inspectContainer(result.containerId);
    // Inspected right after the result: it may already be gone; if not, it is AutoRemove.
    if (info) expect(info.HostConfig?.AutoRemove).toBe(true);
    await engine.stop({ waitMs: 0 });
    expect(await untilNoneLeft()).toEqual([]);
  });

  test("a run that timed out is removed by the engine as before (stop waits for it)", async () => {
    const engine = testEngine({ pool: false, removeInBackground: true });
    await engine.start();
    const result = await engine.execute({ runtime: "python", code: "import time; time.sleep(30)", timeoutMs: 1_000 });
    expect(result.resourceUsage.killReason).toBe("timeout");
    await engine.stop();
    expect((await mine()).map((c) => c.id)).not.toContain(result.containerId);
  });

  test("still works: without removeInBackground the one-shot container is not AutoRemove and stop() removes it", async () => {
    const engine = testEngine({ pool: false });
    await engine.start();
    const result = await engine.execute({ runtime: "python", code: "print('hi')" });
    const info = await docker.inspectContainer(result.containerId);
    if (info) expect(info.HostConfig?.AutoRemove).toBe(false);
    await engine.stop();
    expect((await mine()).map((c) => c.id)).not.toContain(result.containerId);
  });
});
