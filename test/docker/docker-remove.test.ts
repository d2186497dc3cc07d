// DockerClient.remove means gone: when another caller's removal of the same container is
// already in progress (Docker answers 409), remove waits until the container no longer exists,
// so a sweep after it never finds what it "removed" (a server's shutdown counts on this).
import { afterAll, expect, test } from "bun:test";
import { createDockerClient } from "../../src/engine/docker";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";

const engine = testEngine({ mode: "persistent" });
const docker = createDockerClient();

afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

test("concurrent removals of one container all resolve only once it is gone", async () => {
  const r = await engine.execute({ runtime: "bash", code: "echo up" });
  expect(r.stdout).toBe("up\n");
  const id = engine.sessionContainerId!;
  expect(await docker.inspectContainer(id)).not.toBeNull();
  const removals = Array.from({ length: 4 }, () => docker.remove(id).then(() => docker.inspectContainer(id)));
  // Every caller, the ones Docker answered "removal already in progress" included, sees it gone.
  expect(await Promise.all(removals)).toEqual([null, null, null, null]);
}, 60_000);

test("still works: removing a container that does not exist resolves at once", async () => {
  await docker.remove("0".repeat(64));
});
