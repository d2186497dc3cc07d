// The deadline belongs to the host: `timeoutMs` is the budget of the whole execution, and it
// holds when the in-container supervisor cannot keep it (a frozen container, a dead
// supervisor, a slow Docker API). Each case with its twin that still works.
import { afterAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { findContainers } from "../../src/engine/cleanup";
import { createDockerClient } from "../../src/engine/docker";
import { SessionLostError } from "../../src/errors";
import { PHASES } from "../../src/protocol/execution";
import { BINARY, TEST_SCOPE, testEngine } from "../helpers";
import { rejection } from "./execution-helpers";
import { ownedContainers } from "./owned-containers";
import { startSlowDocker } from "./slow-docker";
import { killSupervisor } from "../chaos/faults";

const docker = createDockerClient();
const SLEEP = "import time; time.sleep(30)";

/** Polls until `check` gives a value (or the attempts run out). */
async function eventually<T>(check: () => Promise<T | undefined>, attempts = 100, everyMs = 50): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await Bun.sleep(everyMs);
  }
  throw new Error("the condition never held");
}

/** The one running container of an engine (or scope), once it exists. */
const runningContainer = (selection: { owner?: string; scope?: string }) =>
  eventually(async () => (await findContainers(docker, selection)).find((c) => c.state === "running")?.id);

const pause = (id: string) => spawnSync("docker", ["pause", id], { encoding: "utf8" });

describe("a frozen container (docker pause) cannot hold an execution past its deadline", () => {
  const engine = testEngine({ config: { poolSize: 1 } });
  afterAll(async () => {
    await engine.stop();
    expect(await ownedContainers(engine)).toEqual([]);
  });

  test("warm pool: timedOut within timeout + 1.5 s, and the next execution runs in another container", async () => {
    await engine.start({ prewarm: ["python"] });
    const t0 = performance.now();
    const running = engine.execute({ code: SLEEP, timeoutMs: 2000 });
    const id = await runningContainer({ owner: engine.instanceId });
    await Bun.sleep(300);
    expect(pause(id).status).toBe(0);
    const result = await running;
    const elapsed = performance.now() - t0;
    expect(result).toMatchObject({ timedOut: true, timeoutPhase: "run", exitCode: 137, containerId: id });
    expect(result.resourceUsage.killReason).toBe("timeout");
    expect(elapsed).toBeLessThan(2000 + 1500);
    const next = await engine.execute({ code: "print('after')", timeoutMs: 10_000 });
    expect(next.stdout).toBe("after\n");
    expect(next.containerId).not.toBe(id);
    // The frozen one is removed (in the background), never reused.
    await eventually(async () => ((await docker.inspectContainer(id)) === null ? true : undefined), 200);
  }, 60_000);

  test("still works: an execution that ends before its deadline in a warm container is not timed out", async () => {
    const result = await engine.execute({ code: "print('quick')", timeoutMs: 2000 });
    expect(result).toMatchObject({ stdout: "quick\n", timedOut: false, exitCode: 0 });
  }, 30_000);
});

describe("a session whose container is frozen is lost, and says so", () => {
  const session = testEngine({ mode: "persistent" });
  afterAll(async () => {
    await session.stop();
    expect(await ownedContainers(session)).toEqual([]);
  });

  test("the frozen run is timedOut; the next request gets SessionLostError; the one after runs in a new container", async () => {
    const first = await session.execute({ code: "open('/sandbox/kept', 'w').write('x'); print('first')", timeoutMs: 10_000 });
    expect(first.stdout).toBe("first\n");
    const running = session.execute({ code: SLEEP, timeoutMs: 2000 });
    await Bun.sleep(500);
    expect(pause(first.containerId).status).toBe(0);
    const frozen = await running;
    expect(frozen).toMatchObject({ timedOut: true, containerId: first.containerId });
    const lost = await rejection(session.execute({ code: "print(1)" }));
    expect(lost).toBeInstanceOf(SessionLostError);
    expect(lost.message).toContain("its files are gone");
    const fresh = await session.execute({ code: "import os; print(os.path.exists('/sandbox/kept'))", timeoutMs: 10_000 });
    expect(fresh.stdout).toBe("False\n");
    expect(fresh.containerId).not.toBe(first.containerId);
  }, 60_000);
});

describe("the CLI keeps its deadline", () => {
  test("docker pause of a --timeout 2000 run: exit 124 within 3.5 s of the start, the container gone within 10 s", async () => {
    const scope = `${TEST_SCOPE}-pause-${process.pid}`;
    const t0 = performance.now();
    const child = spawn(BINARY, ["run", "--timeout", "2000", "-e", SLEEP], {
      env: { ...process.env, NO_COLOR: "1", ISOL8_SCOPE: scope },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
    const id = await runningContainer({ scope });
    await Bun.sleep(200);
    expect(pause(id).status).toBe(0);
    const code = await exited;
    const elapsed = performance.now() - t0;
    expect(code).toBe(124);
    expect(elapsed).toBeLessThan(3500);
    expect(stderr).toContain("timed out");
    await eventually(async () => ((await findContainers(docker, { scope })).length === 0 ? true : undefined), 200);
  }, 60_000);

  test("a Docker API answering every call after 5 s: --timeout 2000 returns within 4 s, exit 124 or 125, one line, nothing created", async () => {
    const slow = await startSlowDocker(`/tmp/isol8-slow-docker-${process.pid}.sock`, 5000);
    try {
      const t0 = performance.now();
      const child = spawn(BINARY, ["run", "--timeout", "2000", "-e", "print(1)"], {
        env: { ...process.env, NO_COLOR: "1", DOCKER_HOST: `unix://${slow.path}` },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? -1)));
      expect(performance.now() - t0).toBeLessThan(4000);
      expect([124, 125]).toContain(code);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      // Only the readiness check reached the API: no container was ever asked for.
      expect(slow.requests()).toBe(1);
    } finally {
      await slow.close();
    }
  }, 30_000);

  test("still works: the same run against the real API prints 1", () => {
    const r = spawnSync(BINARY, ["run", "--timeout", "10000", "-e", "print(1)"], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("1\n");
  }, 30_000);
});

describe("phase timings", () => {
  const engine = testEngine({ pool: false });
  afterAll(() => engine.stop());

  test("every phase is timed and they add up to about the duration", async () => {
    const result = await engine.execute({ code: "import time; time.sleep(0.3); print(1)", timeoutMs: 20_000 });
    const spent = PHASES.map((phase) => result.phases[`${phase}Ms`]);
    expect(spent.every((ms) => Number.isInteger(ms) && ms >= 0)).toBe(true);
    expect(result.phases.runMs).toBeGreaterThanOrEqual(300);
    expect(result.phases.acquireMs).toBeGreaterThan(0); // a cold container was created
    const sum = spent.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - result.durationMs)).toBeLessThanOrEqual(PHASES.length);
  }, 30_000);

  test("a budget spent before the program starts: timedOut in the queue, nothing ran", async () => {
    const one = testEngine({ pool: false, config: { maxConcurrent: 1 } });
    try {
      const blocker = one.execute({ code: "import time; time.sleep(3)", timeoutMs: 20_000 });
      await Bun.sleep(200);
      const queued = await one.execute({ code: "print('never')", timeoutMs: 500 });
      expect(queued).toMatchObject({ timedOut: true, timeoutPhase: "queue", stdout: "", containerId: "" });
      expect(queued.phases.queueMs).toBeGreaterThanOrEqual(450);
      expect((await blocker).timedOut).toBe(false);
    } finally {
      await one.stop();
    }
  }, 30_000);
});

describe("a container killed mid-run ends its execution at once, with what happened (never reused)", () => {
  const engine = testEngine({ config: { poolSize: 1 } });
  const session = testEngine({ mode: "persistent" });
  afterAll(async () => {
    await Promise.all([engine.stop(), session.stop()]);
    expect(await ownedContainers(engine)).toEqual([]);
    expect(await ownedContainers(session)).toEqual([]);
  });

  test.each([
    ["docker kill of the container", (id: string) => spawnSync("docker", ["kill", id], { encoding: "utf8" })],
    ["kill -9 of the supervisor", (id: string) => killSupervisor(id)],
  ] as const)("%s: a SandboxError saying so within 2 s; the next execution runs in another container", async (_, kill) => {
    const running = engine.execute({ code: SLEEP, timeoutMs: 30_000 });
    running.catch(() => {}); // awaited below; never unhandled if an assertion fails first
    const id = await runningContainer({ owner: engine.instanceId });
    await Bun.sleep(300);
    const t0 = performance.now();
    // The exec itself may die with the container it kills (137): what counts is the kill.
    expect([0, 137]).toContain(kill(id).status ?? -1);
    const error = await rejection(running);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(error.name).toBe("SandboxError");
    expect(error.message).toContain("it stopped");
    const next = await engine.execute({ code: "print('next')", timeoutMs: 10_000 });
    expect(next.stdout).toBe("next\n");
    expect(next.containerId).not.toBe(id);
  }, 60_000);

  test("a session container killed mid-run: that request gets SessionLostError, the next one runs in a new container", async () => {
    const first = await session.execute({ code: "print('first')", timeoutMs: 10_000 });
    const running = session.execute({ code: SLEEP, timeoutMs: 30_000 });
    await Bun.sleep(500);
    expect(spawnSync("docker", ["kill", first.containerId]).status).toBe(0);
    const lost = await rejection(running);
    expect(lost).toBeInstanceOf(SessionLostError);
    const fresh = await session.execute({ code: "print('fresh')", timeoutMs: 10_000 });
    expect(fresh.stdout).toBe("fresh\n");
    expect(fresh.containerId).not.toBe(first.containerId);
  }, 60_000);

  test("a container removed from outside isol8 is reported as such", async () => {
    const running = engine.execute({ code: SLEEP, timeoutMs: 30_000 });
    const id = await runningContainer({ owner: engine.instanceId });
    await Bun.sleep(300);
    await docker.remove(id);
    const error = await rejection(running);
    expect(error.message).toContain("removed from outside isol8");
  }, 60_000);
});
