// security.runtime: gVisor puts its own kernel between the program and the host's (the
// program sees gVisor's kernel release, Docker runs the container under runsc); runc is the
// still-works twin. A request may choose per execution; runc and gVisor containers are never
// interchangeable in the pool.
import { afterAll, describe, expect, test } from "bun:test";
import { release } from "node:os";
import { createDockerClient } from "../../src/engine/docker";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";

const engine = testEngine({ config: { security: { runtime: "runc" }, poolSize: { clean: 1, dirty: 1 } } });
const docker = createDockerClient();
const UNAME = "import os; print(os.uname().release)";

afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

describe("isolation runtime", () => {
  test("gvisor: the program sees gVisor's kernel, not the host's; Docker ran the container under runsc", async () => {
    const result = await engine.execute({ runtime: "python", code: UNAME, security: { runtime: "gvisor" } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).not.toBe(release());
    expect(result.stdout.trim()).toBe("4.4.0"); // what gVisor reports as its Linux release
    expect((await docker.inspectContainer(result.containerId))?.HostConfig.Runtime).toBe("runsc");
  }, 60_000);

  test("still works: runc runs on the host's kernel under runc", async () => {
    const result = await engine.execute({ runtime: "python", code: UNAME });
    expect(result.stdout.trim()).toBe(release());
    expect((await docker.inspectContainer(result.containerId))?.HostConfig.Runtime).toBe("runc");
  }, 60_000);

  test("runc and gVisor executions never share a pooled container", async () => {
    const runc = await engine.execute({ runtime: "python", code: UNAME });
    await engine.poolIdle();
    const gvisor = await engine.execute({ runtime: "python", code: UNAME, security: { runtime: "gvisor" } });
    await engine.poolIdle();
    const runcAgain = await engine.execute({ runtime: "python", code: UNAME });
    expect(gvisor.containerId).not.toBe(runc.containerId);
    expect(gvisor.containerId).not.toBe(runcAgain.containerId);
    expect(runcAgain.stdout).toBe(runc.stdout);
  }, 90_000);
});
