/**
 * bench/chaos: faults injected under load into `isol8 serve` (the compiled binary, on
 * loopback), one case at a time: a frozen container (docker pause), the supervisor killed
 * (kill -9), the container killed (docker kill), the Docker daemon restarted, tmpfs filled,
 * and 10x overload. Per case it prints: requests, answered, HTTP statuses, error types,
 * containers leaked (not running, still there after the case settles) and the recovery time
 * (fault → next successful execution). A final line counts every container left.
 *
 *   bun bench/chaos.ts [--skip-dockerd]     (restarting dockerd stops every container on it)
 */
import { findContainers } from "../src/engine/cleanup";
import { createDockerClient } from "../src/engine/docker";
import { killContainer, killSupervisor, pauseContainer, restartDockerd, untilDockerAnswers } from "../test/chaos/faults";
import { serverProcesses, type StartedServer } from "../test/e2e/server-process";

const KEY = "bench-chaos-key";
const docker = createDockerClient();
const skipDockerd = process.argv.includes("--skip-dockerd");

interface Answer {
  status: number;
  error?: string;
}

const execute = (url: string, code: string, timeoutMs: number): Promise<Answer> =>
  fetch(`${url}/execute`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ request: { code, timeoutMs } }),
  })
    .then(async (r) => {
      // The error body is { error: { code, message, ... } }: the code names the kind of failure.
      const body = (await r.json().catch(() => ({}))) as { error?: { code?: string } };
      return { status: r.status, ...(r.status === 200 ? {} : { error: body.error?.code ?? `HTTP ${r.status}` }) };
    })
    .catch((e: Error) => ({ status: 0, error: `no answer (${e.message})` }));

/** Milliseconds from now until an execution succeeds again (probing every 250 ms), or null after a minute. */
async function recovery(url: string): Promise<number | null> {
  const t0 = performance.now();
  while (performance.now() - t0 < 60_000) {
    if ((await execute(url, "print(1)", 20_000)).status === 200) return Math.round(performance.now() - t0);
    await Bun.sleep(250);
  }
  return null;
}

const runningOf = async (pid: number) => (await findContainers(docker, { pid })).filter((c) => c.state === "running").map((c) => c.id);
const leakedOf = async (pid: number) => (await findContainers(docker, { pid })).filter((c) => c.state !== "running").length;

interface CaseReport {
  name: string;
  requests: number;
  answered: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  leaked: number;
  recoveryMs: number | null;
}

async function runCase(name: string, server: StartedServer, load: () => Promise<Answer>[], fault: () => Promise<void>): Promise<CaseReport> {
  const pid = server.child.pid!;
  const pending = load();
  await Bun.sleep(1_000);
  await fault();
  const faultAt = performance.now();
  const answers = await Promise.all(pending);
  const recovered = await recovery(server.url);
  const recoveryMs = recovered === null ? null : Math.round(performance.now() - faultAt);
  await Bun.sleep(3_000); // let background removals finish before counting leftovers
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const a of answers) {
    statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    if (a.error) errors[a.error] = (errors[a.error] ?? 0) + 1;
  }
  return { name, requests: answers.length, answered: answers.filter((a) => a.status !== 0).length, statuses, errors, leaked: await leakedOf(pid), recoveryMs };
}

const sleepers = (url: string, n: number, timeoutMs: number) => () =>
  Array.from({ length: n }, () => execute(url, "import time; time.sleep(10); print('done')", timeoutMs));
const onRunning = (pid: number, act: (id: string) => unknown) => async () => {
  for (const id of await runningOf(pid)) act(id);
};

console.log("bench/chaos: faults under load against isol8 serve (each case: requests, answered, statuses, errors, leaked, recovery)");
const reports: CaseReport[] = [];
const pids: number[] = [];

const servers = serverProcesses("isol8-bench-chaos-");
const server = await servers.start({ keys: [KEY], config: { poolSize: 2, maxConcurrent: 4 } });
pids.push(server.child.pid!);
await execute(server.url, "print('warm')", 20_000);
const pid = server.child.pid!;

reports.push(await runCase("docker pause", server, sleepers(server.url, 4, 3_000), onRunning(pid, pauseContainer)));
reports.push(await runCase("kill -9 supervisor", server, sleepers(server.url, 4, 20_000), onRunning(pid, killSupervisor)));
reports.push(await runCase("docker kill", server, sleepers(server.url, 4, 20_000), onRunning(pid, killContainer)));
if (!skipDockerd) {
  reports.push(
    await runCase("dockerd restart", server, sleepers(server.url, 4, 20_000), async () => {
      await restartDockerd();
      await untilDockerAnswers();
    }),
  );
}
const fill = "import subprocess\nfor d in ['/sandbox', '/tmp', '/dev/shm']:\n    subprocess.run(['dd', 'if=/dev/zero', f'of={d}/fill', 'bs=1M'], capture_output=True)\nprint('filled')";
reports.push(await runCase("tmpfs fill", server, () => Array.from({ length: 4 }, () => execute(server.url, fill, 30_000)), async () => {}));
server.child.kill("SIGTERM");
await server.exited;

const small = await servers.start({ keys: [KEY], config: { maxConcurrent: 2, server: { maxQueue: 2 } } });
pids.push(small.child.pid!);
await execute(small.url, "print('warm')", 20_000);
reports.push(
  await runCase("10x overload", small, () => Array.from({ length: 40 }, () => execute(small.url, "import time; time.sleep(0.5); print(1)", 30_000)), async () => {}),
);
small.child.kill("SIGTERM");
await small.exited;

const fmt = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k}×${v}`).join(" ") || "-";
console.log("case                 requests answered statuses                 leaked recovery  errors");
for (const r of reports) {
  console.log(
    `${r.name.padEnd(20)} ${String(r.requests).padEnd(8)} ${String(r.answered).padEnd(8)} ${fmt(r.statuses).padEnd(24)} ${String(r.leaked).padEnd(6)} ${(r.recoveryMs === null ? "none" : `${r.recoveryMs} ms`).padEnd(9)} ${fmt(r.errors)}`,
  );
}
let left = 0;
for (const p of pids) left += (await findContainers(docker, { pid: p })).length;
const http500 = reports.reduce((n, r) => n + (r.statuses["500"] ?? 0), 0);
console.log(`after every case and shutdown: ${left} container(s) of these servers left; ${http500} HTTP 500`);
servers.cleanup();
