// `isol8 serve` while Docker cannot be reached: it starts anyway (liveness answers), execution
// routes answer 503 with Retry-After, and it serves as soon as Docker answers again, without
// a restart. Docker "going away" is a socket the test controls (a forwarder to the real
// daemon that it stops and starts); restarting the real daemon is bench/chaos's job.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { findContainers } from "../../src/engine/cleanup";
import { createDockerClient } from "../../src/engine/docker";
import { startSlowDocker, type SlowDocker } from "../docker/slow-docker";
import { serverProcesses, type StartedServer } from "./server-process";

const KEY = "e2e-docker-key";
const SOCKET = `/tmp/isol8-e2e-docker-${process.pid}.sock`;
const servers = serverProcesses("isol8-docker-");
let server: StartedServer | undefined;
let forwarder: SlowDocker | undefined;

afterAll(async () => {
  servers.cleanup();
  await forwarder?.close();
  rmSync(SOCKET, { force: true });
});

const execute = (url: string) =>
  fetch(`${url}/execute`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ request: { code: "print(6*7)", timeoutMs: 20_000 } }),
  });

describe("isol8 serve without Docker", () => {
  test("starts degraded: /health answers, executions get 503 + Retry-After; once Docker answers it serves, without a restart", async () => {
    rmSync(SOCKET, { force: true });
    server = await servers.start({ keys: [KEY], env: { DOCKER_HOST: `unix://${SOCKET}` } });
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const refused = await execute(server.url);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).not.toBeNull();
    expect(((await refused.json()) as { error: { code: string; retryable?: boolean } }).error).toMatchObject({ code: "docker-unavailable", retryable: true });
    expect(server.stderr()).toContain("serving degraded");

    forwarder = await startSlowDocker(SOCKET, 0); // Docker is back
    let answer: Response | undefined;
    for (let i = 0; i < 60 && answer?.status !== 200; i++) {
      answer = await execute(server.url);
      if (answer.status !== 200) await Bun.sleep(500);
    }
    expect(answer?.status).toBe(200);
    expect(((await answer!.json()) as { stdout: string }).stdout).toBe("42\n");

    await forwarder.close(); // Docker goes away while serving...
    const during = await execute(server.url);
    expect(during.status).toBe(503);
    expect(during.headers.get("retry-after")).not.toBeNull();

    forwarder = await startSlowDocker(SOCKET, 0); // ...and comes back
    let again: Response | undefined;
    for (let i = 0; i < 60 && again?.status !== 200; i++) {
      again = await execute(server.url);
      if (again.status !== 200) await Bun.sleep(500);
    }
    expect(again?.status).toBe(200);
    expect(await server.stop()).toBe(0);
    // Containers whose channel broke while Docker was away were removed once it came back.
    expect(await findContainers(createDockerClient(), { pid: server.child.pid! })).toEqual([]);
  }, 90_000);
});
