// Real-Docker proof of the filtered network's policy (docs/SECURITY.md D8, D11, D13,
// D14): what the host-side proxy allows and refuses, and that every execution gets only its
// own policy. (Paths around the proxy: network-bypass.test.ts; logs: network-logs.test.ts.)
// Every "blocked" case has a "still works" twin, mostly in the same program, so a test
// cannot pass because the network is simply broken.
//
// SAFETY: the only destinations are sinks this file starts on 127.0.0.1, 127.0.0.2 and this
// host's own Docker bridge address (checked to be a local interface). A blocked path is
// proven by the sink's own record staying empty.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { Isol8ConfigInput } from "../../src/config/schema";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { ExecutionRequest } from "../../src/protocol/execution";
import { ConflictError, RequestError } from "../../src/errors";
import { rejection } from "./execution-helpers";
import { TEST_ISOLATION, testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";
import { type HttpSink, hostBridgeAddress, PY_HTTP, shown, startHttpSink } from "./network-sinks";

const PROXY_URL = "http://127.0.0.1:8118";

let bridge: string;
/** sink.test and other.test (127.0.0.1): the one allowed destination, told apart by Host. */
let sink: HttpSink;
/** 127.0.0.1 on a port the proxy does not allow. */
let offPort: HttpSink;
/** 127.0.0.2 (loopback outside network.allowedCidrs), reached by name as loop.test. */
let loopback: HttpSink;
/** The host's bridge address (a private range), reached by name as private.test. */
let onBridge: HttpSink;
/** Responses /barrier/<id> holds until both A and B have arrived. */
const barrier = new Map<string, () => void>();

/** sink.test/other.test/loop.test/private.test; only 127.0.0.1 is an allowed internal range. */
let engine: DockerIsol8;
/** network.whitelist / network.blacklist in the config. */
let configEngine: DockerIsol8;
/** Persistent engines with the main engine's configuration. */
const sessions: DockerIsol8[] = [];
const engines = () => [engine, configEngine, ...sessions].filter(Boolean);

beforeAll(async () => {
  bridge = hostBridgeAddress();
  sink = await startHttpSink("127.0.0.1", (req, res) => {
    const id = /^\/barrier\/(\w+)$/.exec(req.url ?? "")?.[1];
    if (!id) return false;
    barrier.set(id, () => res.end(`passed ${id}`));
    if (barrier.has("A") && barrier.has("B")) for (const release of barrier.values()) release();
    return true;
  });
  offPort = await startHttpSink("127.0.0.1");
  loopback = await startHttpSink("127.0.0.2");
  onBridge = await startHttpSink(bridge);
  // Look-alike names point at the sink too: were one let through, the sink would record it.
  const hosts = {
    "sink.test": "127.0.0.1",
    "other.test": "127.0.0.1",
    "sink.test.evil.test": "127.0.0.1",
    "xsink.test": "127.0.0.1",
    "sinkxtest": "127.0.0.1",
    "loop.test": "127.0.0.2",
    "private.test": bridge,
  };
  engine = testEngine({
    config: { network: { hosts, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [sink.port, loopback.port, onBridge.port] } },
  });
  const listed: Isol8ConfigInput = {
    network: {
      hosts,
      allowedCidrs: ["127.0.0.1/32"],
      allowedPorts: [sink.port],
      whitelist: ["sink\\.test", "other\\.test"],
      blacklist: ["^other\\.test$"],
    },
  };
  configEngine = testEngine({ config: listed });
});

beforeEach(() => {
  for (const s of [sink, offPort, loopback, onBridge]) s.reset();
  barrier.clear();
});

afterAll(async () => {
  await Promise.all(engines().map((e) => e.stop()));
  for (const e of engines()) expect(await ownedContainers(e)).toEqual([]);
  await Promise.all([sink, offPort, loopback, onBridge].filter(Boolean).map((s) => s.close()));
});

/** A python program with the PY_HTTP helpers, in the filtered network unless the request says otherwise. */
function py(on: DockerIsol8, code: string, request: Partial<ExecutionRequest> = {}) {
  return on.execute({ runtime: "python", network: "filtered", timeoutMs: 60_000, code: `${PY_HTTP}\n${code}`, ...request });
}

const url = (host: string, port: number, path: string) => `http://${host}:${port}${path}`;
const paths = (s: HttpSink) => s.requests.map((r) => `${r.host} ${r.url}`);

/** A refusal: 403 and a one-line reason containing `words`. */
function expectRefused(answer: unknown, words: string): void {
  const [status, body] = answer as [number, string];
  expect(status).toBe(403);
  expect(body).toMatch(/^[^\n]+\n$/);
  expect(body).toContain(words);
}

describe("filtered: allow and deny", () => {
  test("an allowed host answers 200 through the proxy variables, and the sink saw the request", async () => {
    const r = await py(
      engine,
      `show("env", {k: os.environ.get(k) for k in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NODE_USE_ENV_PROXY"]})
show("sink", get(${JSON.stringify(url("sink.test", sink.port, "/allowed"))}))`,
      { allow: ["sink\\.test"] },
    );
    expect(r.exitCode).toBe(0);
    const out = shown(r.stdout);
    expect(out.env).toEqual({ HTTP_PROXY: PROXY_URL, HTTPS_PROXY: PROXY_URL, http_proxy: PROXY_URL, https_proxy: PROXY_URL, NODE_USE_ENV_PROXY: "1" });
    expect(out.sink).toEqual([200, `sink sink.test:${sink.port} /allowed`]);
    expect(sink.requests).toEqual([{ method: "GET", url: "/allowed", host: `sink.test:${sink.port}` }]);
  });

  test("deny wins over allow: the denied host gets 403 with a one-line reason and the sink sees nothing of it", async () => {
    const r = await py(
      engine,
      `show("denied", get(${JSON.stringify(url("other.test", sink.port, "/denied"))}))
show("allowed", get(${JSON.stringify(url("sink.test", sink.port, "/allowed"))}))`,
      { allow: ["sink\\.test", "other\\.test"], deny: ["^other\\.test$"] },
    );
    const out = shown(r.stdout);
    expectRefused(out.denied, 'host "other.test" is denied');
    expect(out.allowed).toEqual([200, `sink sink.test:${sink.port} /allowed`]);
    expect(paths(sink)).toEqual([`sink.test:${sink.port} /allowed`]);
  });

  test("a host on no allow list gets 403; the listed one still answers", async () => {
    const r = await py(
      engine,
      `show("unlisted", get(${JSON.stringify(url("other.test", sink.port, "/unlisted"))}))
show("listed", get(${JSON.stringify(url("sink.test", sink.port, "/listed"))}))`,
      { allow: ["sink\\.test"] },
    );
    const out = shown(r.stdout);
    expectRefused(out.unlisted, 'host "other.test" is not in the allow list');
    expect(out.listed).toEqual([200, `sink sink.test:${sink.port} /listed`]);
    expect(paths(sink)).toEqual([`sink.test:${sink.port} /listed`]);
  });

  test("an empty allow list allows nothing (never 'allow all')", async () => {
    const r = await py(engine, `show("sink", get(${JSON.stringify(url("sink.test", sink.port, "/x"))}))`);
    expectRefused(shown(r.stdout).sink, "not in the allow list");
    expect(sink.connections).toBe(0);
  });

  test("config network.whitelist allows without request patterns; network.blacklist wins even over a request's allow", async () => {
    const r = await py(
      configEngine,
      `show("whitelisted", get(${JSON.stringify(url("sink.test", sink.port, "/whitelisted"))}))
show("blacklisted", get(${JSON.stringify(url("other.test", sink.port, "/blacklisted"))}))`,
      { allow: ["other\\.test"] },
    );
    const out = shown(r.stdout);
    expect(out.whitelisted).toEqual([200, `sink sink.test:${sink.port} /whitelisted`]);
    expectRefused(out.blacklisted, 'host "other.test" is denied');
    expect(paths(sink)).toEqual([`sink.test:${sink.port} /whitelisted`]);
  });
});

describe("filtered: the proxy refuses what the policy does not name", () => {
  test("allow patterns match the whole canonical host: look-alikes are 403, case and a trailing dot are not", async () => {
    const r = await py(
      engine,
      `for host in ["sink.test.evil.test", "xsink.test", "sinkxtest"]:
    show(host, get(f"http://{host}:${sink.port}/lookalike"))
show("upper", get(${JSON.stringify(url("SINK.TEST.", sink.port, "/upper"))}))
show("denied upper", get(${JSON.stringify(url("OTHER.Test.", sink.port, "/denied-upper"))}))`,
      { allow: ["sink\\.test", "other\\.test"], deny: ["^other\\.test$"] },
    );
    const out = shown(r.stdout);
    for (const host of ["sink.test.evil.test", "xsink.test", "sinkxtest"]) expectRefused(out[host], `host "${host}" is not in the allow list`);
    expect(out.upper).toEqual([200, `sink sink.test:${sink.port} /upper`]);
    expectRefused(out["denied upper"], 'host "other.test" is denied');
    expect(paths(sink)).toEqual([`sink.test:${sink.port} /upper`]);
  });

  test("Host header mismatch is 403, origin-form is 400; the matching request passes", async () => {
    const target = `sink.test:${sink.port}`;
    const r = await py(
      engine,
      `show("mismatch", raw("GET http://${target}/mismatch HTTP/1.1\\r\\nHost: other.test:${sink.port}\\r\\n\\r\\n"))
show("origin", raw("GET /origin HTTP/1.1\\r\\nHost: ${target}\\r\\n\\r\\n"))
show("match", raw("GET http://${target}/match HTTP/1.1\\r\\nHost: ${target}\\r\\n\\r\\n"))`,
      { allow: ["sink\\.test"] },
    );
    const out = shown(r.stdout);
    expectRefused(out.mismatch, "Host header does not match");
    expect((out.origin as [number, string])[0]).toBe(400);
    expect(out.match).toEqual([200, `sink ${target} /match`]);
    expect(paths(sink)).toEqual([`${target} /match`]);
  });

  test("a port outside network.allowedPorts is 403 (plain and CONNECT); the allowed port passes", async () => {
    const r = await py(
      engine,
      `show("plain", get(${JSON.stringify(url("sink.test", offPort.port, "/port"))}))
show("connect", raw("CONNECT sink.test:${offPort.port} HTTP/1.1\\r\\nHost: sink.test:${offPort.port}\\r\\n\\r\\n"))
show("ssh", raw("CONNECT sink.test:22 HTTP/1.1\\r\\nHost: sink.test:22\\r\\n\\r\\n"))
show("allowed", get(${JSON.stringify(url("sink.test", sink.port, "/port-ok"))})[0])`,
      { allow: ["sink\\.test"] },
    );
    const out = shown(r.stdout);
    expectRefused(out.plain, `port ${offPort.port} is not allowed`);
    expectRefused(out.connect, `port ${offPort.port} is not allowed`);
    expectRefused(out.ssh, "port 22 is not allowed");
    expect(out.allowed).toBe(200);
    expect(offPort.connections).toBe(0);
  });

  test("an IP literal is 403 unless allowed and inside network.allowedCidrs", async () => {
    const byName = await py(
      engine,
      `show("literal", via(${JSON.stringify(url("127.0.0.1", sink.port, "/literal"))}))
show("name", get(${JSON.stringify(url("sink.test", sink.port, "/name"))})[0])`,
      { allow: ["sink\\.test"] },
    );
    expectRefused(shown(byName.stdout).literal, 'host "127.0.0.1" is not in the allow list');
    expect(shown(byName.stdout).name).toBe(200);
    expect(paths(sink)).toEqual([`sink.test:${sink.port} /name`]);

    // Allow-all still refuses literals outside the allowed ranges, in every inet_aton spelling.
    sink.reset();
    const allowAll = await py(
      engine,
      `for label, host in [("dotted", "127.0.0.2"), ("decimal", "2130706434"), ("hex", "0x7f.0.0.2"), ("v6", "[::1]"), ("mapped", "[::ffff:127.0.0.2]")]:
    show(label, via(f"http://{host}:${loopback.port}/literal"))
show("inside", via(${JSON.stringify(url("127.0.0.1", sink.port, "/inside"))}))`,
      { allow: [".*"] },
    );
    const out = shown(allowAll.stdout);
    for (const label of ["dotted", "decimal", "hex", "v6", "mapped"]) expectRefused(out[label], "IP-literal destination");
    expect(out.inside).toEqual([200, `sink 127.0.0.1:${sink.port} /inside`]);
    expect(loopback.connections).toBe(0);
    expect(paths(sink)).toEqual([`127.0.0.1:${sink.port} /inside`]);
  });

  test("names resolving to loopback or private addresses outside allowedCidrs are 403, even with an allow-all list", async () => {
    for (const allow of [["loop\\.test", "private\\.test", "sink\\.test"], [".*"]]) {
      const r = await py(
        engine,
        `show("loopback", get(${JSON.stringify(url("loop.test", loopback.port, "/internal"))}))
show("private", get(${JSON.stringify(url("private.test", onBridge.port, "/internal"))}))
show("sink", get(${JSON.stringify(url("sink.test", sink.port, "/public-ish"))})[0])`,
        { allow },
      );
      const out = shown(r.stdout);
      expectRefused(out.loopback, 'host "loop.test" resolves to an internal address (loopback)');
      expectRefused(out.private, 'host "private.test" resolves to an internal address (private)');
      expect(out.sink).toBe(200);
    }
    expect(loopback.connections + onBridge.connections).toBe(0);
  });
});

describe("filtered: policies are per execution", () => {
  test("two concurrent executions with different allow lists each reach only their own host", async () => {
    const program = (id: string, own: string, foreign: string) =>
      py(
        engine,
        `show("barrier", get(${JSON.stringify(url(own, sink.port, `/barrier/${id}`))}, timeout=50))
show("own", get(${JSON.stringify(url(own, sink.port, `/own/${id}`))}))
show("foreign", get(${JSON.stringify(url(foreign, sink.port, `/foreign/${id}`))}))`,
        { allow: [own.replaceAll(".", "\\.")] },
      );
    // Each program's first request is held until the other's has arrived: both policies are live at once.
    const [a, b] = await Promise.all([program("A", "sink.test", "other.test"), program("B", "other.test", "sink.test")]);
    const outA = shown(a.stdout);
    const outB = shown(b.stdout);
    expect(a.containerId).not.toBe(b.containerId);
    expect(outA.barrier).toEqual([200, "passed A"]);
    expect(outB.barrier).toEqual([200, "passed B"]);
    expect(outA.own).toEqual([200, `sink sink.test:${sink.port} /own/A`]);
    expect(outB.own).toEqual([200, `sink other.test:${sink.port} /own/B`]);
    expectRefused(outA.foreign, 'host "other.test" is not in the allow list');
    expectRefused(outB.foreign, 'host "sink.test" is not in the allow list');
    expect(paths(sink).sort()).toEqual(
      [
        `sink.test:${sink.port} /barrier/A`,
        `other.test:${sink.port} /barrier/B`,
        `sink.test:${sink.port} /own/A`,
        `other.test:${sink.port} /own/B`,
      ].sort(),
    );
  });
});

describe("filtered: a persistent container", () => {
  const openSession = () => {
    const session = testEngine({ mode: "persistent", config: engine.config });
    sessions.push(session);
    return session;
  };
  /** A direct connect to the sink on this host's loopback: only the host network reaches it. */
  const direct = () => `try:
    socket.create_connection(("127.0.0.1", ${sink.port}), 5).close()
    show("direct", "CONNECTED")
except OSError as e:
    show("direct", e.errno)`;
  const proxied = () => `show("proxied", get(${JSON.stringify(url("sink.test", sink.port, "/persistent"))}, timeout=10))`;
  const both = (own: string, other: string, path: string) =>
    `show("own", get(${JSON.stringify(url(own, sink.port, path))})[0])\nshow("other", get(${JSON.stringify(url(other, sink.port, path))})[0])`;

  test("each execution in the same container gets only its own policy and logs", async () => {
    const session = openSession();
    const a = await py(session, both("sink.test", "other.test", "/a"), { allow: ["sink\\.test"], logNetwork: true });
    const b = await py(session, both("other.test", "sink.test", "/b"), { allow: ["other\\.test"], logNetwork: true });
    expect(b.containerId).toBe(a.containerId);
    expect(shown(a.stdout)).toEqual({ own: 200, other: 403 });
    expect(shown(b.stdout)).toEqual({ own: 200, other: 403 });
    expect((a.networkLogs ?? []).map((e) => `${e.action} ${e.host}`)).toEqual(["ALLOW sink.test", "BLOCK other.test"]);
    expect((b.networkLogs ?? []).map((e) => `${e.action} ${e.host}`)).toEqual(["ALLOW other.test", "BLOCK sink.test"]);
  });

  // The session's container is created by its first request. A later request for the
  // filtered network must be refused or filtered: never run with the host network, never
  // silently without the proxy.
  test("a filtered execution never runs with the host network of the session's first execution: ConflictError, nothing runs", async () => {
    const session = openSession();
    if (TEST_ISOLATION === "gvisor") {
      // gVisor runs without a network of its own: network "host" is refused before anything starts.
      const refused = await rejection(session.execute({ runtime: "python", network: "host", code: "print('first')" }));
      expect(refused).toBeInstanceOf(RequestError);
      expect(refused.message).toStartWith('Cannot use network "host" with runtime "gvisor"');
      return;
    }
    await session.execute({ runtime: "python", network: "host", code: "print('first')" });
    // Only the direct connect: with the host network, the proxy variables would point at this host.
    const error = await rejection(py(session, direct(), { allow: ["sink\\.test"], logNetwork: true }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toStartWith('Cannot switch network from "host" to "filtered"');
    expect(sink.connections).toBe(0);
  });

  test("a filtered execution after a network-none first execution is refused (ConflictError), never silently offline", async () => {
    const session = openSession();
    await session.execute({ runtime: "python", code: "print('first')" });
    const error = await rejection(py(session, `${direct()}\n${proxied()}`, { allow: ["sink\\.test"], logNetwork: true }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toStartWith('Cannot switch network from "none" to "filtered"');
  });
});
