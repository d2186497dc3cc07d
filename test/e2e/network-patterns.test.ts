// Host patterns cannot stall the server: `isol8 serve` (the compiled binary, on loopback)
// with eight `(a+)+$` deny patterns in network.blacklist runs a filtered python execution
// that fires CONNECTs at 30-character all-`a` hosts through its HTTPS_PROXY, while this
// file measures GET /health. Each CONNECT is refused (403) and /health keeps answering
// in < 100 ms, all probes but one, none near 1 s (a backtracking matcher would take ~2^30
// steps per CONNECT: seconds). The bound is the property as docs/SECURITY.md D25 states it;
// unit tests carry no wall-clock bounds.
//
// SAFETY: the only destination is a sink this file starts on 127.0.0.1; every name comes
// from the server's static host table.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDockerClient } from "../../src/engine/docker";
import { LABEL_MANAGED, LABEL_PID } from "../../src/engine/labels";
import { type HttpSink, startHttpSink } from "../docker/network-sinks";
import { BINARY, TEST_SCOPE } from "../helpers";
import { connectFloodProgram, expectHealthKeptAnswering } from "./connect-flood";
import { listeningUrl } from "./server-process";

const KEY = "e2e-patterns-key";
const HOST = "a".repeat(30);
const CONNECTS = 2_000;

let work: string;
let sink: HttpSink;
let server: { child: ChildProcess; url: string; stderr: () => string };

beforeAll(async () => {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);
  work = mkdtempSync(join(tmpdir(), "isol8-e2e-patterns-"));
  sink = await startHttpSink("127.0.0.1");
  const config = {
    network: {
      // Were the deny patterns skipped, the allow-all list and these entries would let the CONNECTs reach the sink.
      hosts: { [HOST]: "127.0.0.1", "sink.test": "127.0.0.1" },
      allowedCidrs: ["127.0.0.1/32"],
      allowedPorts: [sink.port],
      whitelist: [".*"],
      blacklist: Array.from({ length: 8 }, () => "(a+)+$"),
    },
  };
  writeFileSync(join(work, "isol8.config.json"), JSON.stringify(config));
  const child = spawn(BINARY, ["serve", "--port", "0", "--key", KEY, "--hostname", "127.0.0.1"], {
    cwd: work,
    // Named explicitly (trusted): the sink's hosts entry and range may not come from a file merely found in cwd.
    env: { ...process.env, HOME: work, ISOL8_SCOPE: TEST_SCOPE, NO_COLOR: "1", ISOL8_CONFIG: join(work, "isol8.config.json") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (chunk) => (err += chunk));
  const url = await listeningUrl(child, () => err);
  server = { child, url, stderr: () => err };
});

afterAll(async () => {
  const pid = server?.child.pid;
  if (server && server.child.exitCode === null) {
    const exited = new Promise((resolve) => server.child.once("exit", resolve));
    server.child.kill("SIGTERM");
    await exited;
  }
  if (pid) expect(await createDockerClient().listContainers({ [LABEL_MANAGED]: "true", [LABEL_PID]: String(pid) })).toEqual([]);
  await sink?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});


test("eight (a+)+$ deny patterns: CONNECTs to 30-character all-a hosts are refused and /health answers in < 100 ms (all probes but one; none reaches 1 s)", async () => {
  const code = connectFloodProgram(`${HOST}:${sink.port}`, `sink.test:${sink.port}`, CONNECTS);
  const latencies: number[] = [];
  let running = true;
  const probe = (async () => {
    while (running) {
      const started = performance.now();
      const health = await fetch(`${server.url}/health`);
      await health.arrayBuffer();
      latencies.push(performance.now() - started);
      expect(health.status).toBe(200);
      await Bun.sleep(5);
    }
  })();
  const response = await fetch(`${server.url}/execute`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ request: { runtime: "python", network: "filtered", timeoutMs: 30_000, code } }),
  });
  const result = (await response.json()) as { stdout: string; stderr: string; exitCode: number };
  running = false;
  await probe;

  expect([response.status, response.status === 200 ? "" : JSON.stringify(result)]).toEqual([200, ""]);
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  const [summary, twin] = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  expect(summary).toEqual({ counts: { "403": CONNECTS }, reasons: [`host "${HOST}" is denied by the network policy`] });
  expect(twin).toEqual({ twin: 200 }); // still works: a host the patterns do not match gets its tunnel
  expect(sink.connections).toBe(1); // the twin's; no denied CONNECT reached the sink

  expectHealthKeptAnswering(latencies);
}, 120_000);
