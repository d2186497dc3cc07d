// Catastrophic host patterns sent by a CLIENT (docs/SECURITY.md D25): `isol8 serve` with
// server.allowClientNetworkPatterns runs filtered python executions whose own request carries
// eight `(a+)+$` deny patterns (or eight `(a+)+b` allow patterns) and fires 2,000 CONNECTs at a
// 30-character all-`a` host through its HTTPS_PROXY, while this file measures GET /health.
// Each CONNECT is refused (403) and /health keeps answering in < 100 ms, all probes but one,
// none near 1 s (a backtracking matcher would take ~2^30 steps per CONNECT: seconds). Patterns RE2 cannot run, or too large, are a
// 400 naming the field before anything runs. The bound is the property as D25 states it.
//
// SAFETY: the only destination is a sink this file starts on 127.0.0.1; every name comes
// from the server's static host table.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type HttpSink, startHttpSink } from "../docker/network-sinks";
import { serverProcesses, type StartedServer } from "./server-process";
import { connectFloodProgram, expectHealthKeptAnswering } from "./connect-flood";

const KEY = "e2e-request-patterns-key";
const HOST = "a".repeat(30);
const CONNECTS = 2_000;
const servers = serverProcesses("isol8-request-patterns-");
let sink: HttpSink;
let server: StartedServer;

beforeAll(async () => {
  sink = await startHttpSink("127.0.0.1");
  server = await servers.start({
    keys: [KEY],
    config: {
      // Were a pattern skipped or failing open, these entries would let the CONNECTs reach the sink.
      network: { hosts: { [HOST]: "127.0.0.1", "sink.test": "127.0.0.1" }, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [sink.port] },
      server: { allowClientNetworkPatterns: true },
    },
  });
}, 60_000);
afterAll(async () => {
  servers.cleanup();
  await sink?.close();
});

const program = (port: number) => connectFloodProgram(`${HOST}:${port}`, `sink.test:${port}`, CONNECTS);

const post = (body: object) =>
  fetch(`${server.url}/execute`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** Runs the program with the request's patterns while probing /health every 5 ms; returns the result and the latencies. */
async function underProbe(patterns: { allow?: string[]; deny?: string[] }) {
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
  const response = await post({ request: { runtime: "python", network: "filtered", timeoutMs: 30_000, code: program(sink.port), ...patterns } });
  const result = (await response.json()) as { stdout: string; stderr: string; exitCode: number };
  running = false;
  await probe;
  expect([response.status, response.status === 200 ? "" : JSON.stringify(result)]).toEqual([200, ""]);
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  const [summary, twin] = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  return { summary, twin, latencies };
}

describe("isol8 serve: catastrophic patterns in a client's request", () => {
  test("eight (a+)+$ request deny patterns: CONNECTs to 30-character all-a hosts are refused and /health answers in < 100 ms (all probes but one; none reaches 1 s)", async () => {
    sink.reset();
    const { summary, twin, latencies } = await underProbe({ allow: [".*"], deny: Array.from({ length: 8 }, () => "(a+)+$") });
    expect(summary).toEqual({ counts: { "403": CONNECTS }, reasons: [`host "${HOST}" is denied by the network policy`] });
    expect(twin).toEqual({ twin: 200 }); // still works: a host the patterns do not match gets its tunnel
    expect(sink.connections).toBe(1); // the twin's; no denied CONNECT reached the sink
    expectHealthKeptAnswering(latencies);
  }, 120_000);

  test("eight (a+)+b request allow patterns (never matching, the worst case of a backtracking matcher): the same CONNECTs are refused and /health answers in < 100 ms (all probes but one; none reaches 1 s)", async () => {
    sink.reset();
    const { summary, twin, latencies } = await underProbe({ allow: [...Array.from({ length: 8 }, () => "(a+)+b"), "sink\\.test"] });
    expect(summary).toEqual({ counts: { "403": CONNECTS }, reasons: [`host "${HOST}" is not in the allow list`] });
    expect(twin).toEqual({ twin: 200 });
    expect(sink.connections).toBe(1);
    expectHealthKeptAnswering(latencies);
  }, 120_000);

  test.each([
    ["deny: a lookahead", "deny", ["(?=a)a"], "lookahead and lookbehind are not supported"],
    ["allow: a backreference", "allow", ["(a)\\1"], "backreferences are not supported"],
    ["deny: a{1,1000}", "deny", ["a{1,1000}"], "too complex"],
    ["allow: a lookbehind", "allow", ["(?<!x)a"], "lookahead and lookbehind are not supported"],
    ["deny: 65 × (a+)+$", "deny", Array.from({ length: 65 }, () => "(a+)+$"), "at most 64 entries"],
  ] as const)("a request pattern RE2 cannot run, or too many (%s) → 400 naming the field, before anything runs", async (_label, field, patterns, words) => {
    sink.reset();
    const response = await post({ request: { code: "print('never')", network: "filtered", [field]: patterns } });
    expect(response.status).toBe(400);
    const error = ((await response.json()) as { error: { message: string } }).error;
    expect(error.message).toContain(field);
    expect(error.message).toContain(words);
    expect(sink.connections).toBe(0);
  });
});
