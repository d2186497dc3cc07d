// Real-Docker tests of network logs: one entry per request with ALLOW or
// BLOCK, a null path for CONNECT, only when asked for, only in filtered mode, and never
// carried from one execution into the next one in the same pooled container.
//
// SAFETY: the only destination is a sink this file starts on 127.0.0.1.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { ServerResponse } from "node:http";
import type { DockerIsol8 } from "../../src/engine/engine";
import { RequestError } from "../../src/errors";
import type { ExecutionRequest } from "../../src/protocol/execution";
import { testEngine } from "../helpers";
import { rejection } from "./execution-helpers";
import { type HttpSink, PY_HTTP, shown, startHttpSink } from "./network-sinks";
import { ownedContainers } from "./owned-containers";

let sink: HttpSink;
/** Answers the sink starts and never ends (/hold/...): requests still in flight when an execution ends. */
const held: ServerResponse[] = [];
let engine: DockerIsol8;

beforeAll(async () => {
  sink = await startHttpSink("127.0.0.1", (req, res) => {
    if (!req.url?.startsWith("/hold/")) return false;
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("the rest never comes");
    held.push(res);
    return true;
  });
  engine = testEngine({
    config: {
      poolSize: { clean: 1, dirty: 1 },
      network: { hosts: { "sink.test": "127.0.0.1", "other.test": "127.0.0.1" }, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [sink.port] },
    },
  });
});

beforeEach(() => sink.reset());

afterAll(async () => {
  await engine?.stop();
  if (engine) expect(await ownedContainers(engine)).toEqual([]);
  await sink?.close();
});

function py(code: string, request: Partial<ExecutionRequest> = {}) {
  return engine.execute({ runtime: "python", network: "filtered", allow: ["sink\\.test"], timeoutMs: 60_000, code: `${PY_HTTP}\n${code}`, ...request });
}

const url = (host: string, path: string) => `http://${host}:${sink.port}${path}`;

describe("network logs", () => {
  test("ALLOW and BLOCK entries, one per request, with a null path for CONNECT", async () => {
    const r = await py(
      `import http.client
show("allowed", get(${JSON.stringify(url("sink.test", "/logged?q=1"))})[0])
show("blocked", get(${JSON.stringify(url("other.test", "/blocked"))})[0])
c = http.client.HTTPConnection("127.0.0.1", proxy_port(), timeout=20)
c.set_tunnel("sink.test", ${sink.port})
c.request("GET", "/tunneled")
resp = c.getresponse()
show("tunnel", [resp.status, resp.read().decode()])
c.close()
show("refused tunnel", raw("CONNECT other.test:${sink.port} HTTP/1.1\\r\\nHost: other.test:${sink.port}\\r\\n\\r\\n")[0])`,
      { logNetwork: true },
    );
    const out = shown(r.stdout);
    expect(out).toEqual({
      allowed: 200,
      blocked: 403,
      tunnel: [200, `sink sink.test:${sink.port} /tunneled`],
      "refused tunnel": 403,
    });
    const logs = r.networkLogs ?? [];
    // Entries are written when a connection ends (a tunnel ends last), so compare as a set.
    const brief = logs.map(({ method, host, port, path, action, status }) => ({ method, host, port, path, action, status }));
    const byKey = (a: { method: string; host: string }, b: { method: string; host: string }) =>
      `${a.method} ${a.host}`.localeCompare(`${b.method} ${b.host}`);
    expect(brief.sort(byKey)).toEqual([
      { method: "CONNECT", host: "other.test", port: sink.port, path: null, action: "BLOCK", status: 403 },
      { method: "CONNECT", host: "sink.test", port: sink.port, path: null, action: "ALLOW", status: 200 },
      { method: "GET", host: "other.test", port: sink.port, path: "/blocked", action: "BLOCK", status: 403 },
      { method: "GET", host: "sink.test", port: sink.port, path: "/logged?q=1", action: "ALLOW", status: 200 },
    ]);
    for (const entry of logs) {
      expect(new Date(entry.timestamp).toISOString()).toBe(entry.timestamp);
      expect(entry.durationMs).toBeGreaterThanOrEqual(0);
    }
    const entry = (method: string, host: string) => logs.find((e) => e.method === method && e.host === host)!;
    expect(entry("GET", "other.test").reason).toBe('host "other.test" is not in the allow list');
    expect(entry("GET", "sink.test").bytesIn).toBeGreaterThan(0);
    expect(entry("CONNECT", "sink.test").bytesIn).toBeGreaterThan(0);
    // The tunnel carried a request the sink answered; the refused ones never arrived.
    expect(sink.requests.map((q) => `${q.host} ${q.url}`)).toEqual([`sink.test:${sink.port} /logged?q=1`, `sink.test:${sink.port} /tunneled`]);
  });

  test("secret values are masked in logged paths (the allowed host still receives what the program sent)", async () => {
    const secret = "s3cr3t-token-value";
    const r = await py(`show("sent", get(${JSON.stringify(url("sink.test", "/?t="))} + os.environ["TOKEN"])[0])`, {
      logNetwork: true,
      secrets: { TOKEN: secret },
    });
    expect(shown(r.stdout).sent).toBe(200);
    expect((r.networkLogs ?? []).map((e) => e.path)).toEqual(["/?t=***"]);
    expect(JSON.stringify(r.networkLogs)).not.toContain(secret);
    expect(sink.requests.map((q) => q.url)).toEqual([`/?t=${secret}`]);
  });

  test("without logNetwork the result has no networkLogs (the traffic is still counted)", async () => {
    const r = await py(`show("allowed", get(${JSON.stringify(url("sink.test", "/unlogged"))})[0])`);
    expect(shown(r.stdout).allowed).toBe(200);
    expect("networkLogs" in r).toBe(false);
    expect(r.resourceUsage.networkBytesOut).toBeGreaterThan(0);
    expect(sink.requests).toHaveLength(1);
  });

  test("logNetwork outside the filtered network is a RequestError", async () => {
    for (const network of ["none", "host", undefined] as const) {
      const error = await rejection(engine.execute({ runtime: "python", code: "print(1)", logNetwork: true, ...(network ? { network } : {}) }));
      expect(error).toBeInstanceOf(RequestError);
      expect(error.message).toContain(`Cannot use logNetwork with network "${network ?? "none"}"`);
    }
    // Still works: the same request in the filtered network runs.
    const ok = await engine.execute({ runtime: "python", code: "print(1)", network: "filtered", logNetwork: true });
    expect(ok.stdout).toBe("1\n");
    expect(ok.networkLogs).toEqual([]);
  });

  test("the logs of one execution never appear in the next one's, in the same pooled container", async () => {
    // The first run leaves a request in flight (the sink sends the head of /hold/ and never
    // the end): the proxy cuts it when the run ends, and its entry belongs to that run.
    const first = await py(
      `held = urllib.request.urlopen(${JSON.stringify(url("sink.test", "/hold/first"))}, timeout=300)
show("held", held.status)
show("first", get(${JSON.stringify(url("sink.test", "/first"))})[0])
show("denied", get(${JSON.stringify(url("other.test", "/first-denied"))})[0])`,
      { logNetwork: true },
    );
    expect(shown(first.stdout)).toEqual({ held: 200, first: 200, denied: 403 });
    const firstPaths = (first.networkLogs ?? []).map((e) => e.path).sort();
    expect(firstPaths).toEqual(["/first", "/first-denied", "/hold/first"]);

    await engine.poolIdle(); // the container is cleaned and back in the pool
    const second = await py(`show("second", get(${JSON.stringify(url("sink.test", "/second"))})[0])`, { logNetwork: true });
    expect(second.containerId).toBe(first.containerId);
    expect(shown(second.stdout)).toEqual({ second: 200 });
    expect((second.networkLogs ?? []).map((e) => e.path)).toEqual(["/second"]);
  });
});
