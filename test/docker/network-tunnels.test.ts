// Real-Docker proof that a CONNECT tunnel carries only the host it was opened for: from
// inside a filtered sandbox, raw TLS ClientHellos (and a real TLS client) go through the
// proxy to a sink that records and echoes every byte. A hello naming another host, even
// an allowed one, is cut before the sink sees a byte; the matching twin reaches the sink.
//
// SAFETY: the only destination is a sink this file starts on 127.0.0.1. Names come from
// the engine's static host table, so nothing is looked up.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import { readClientHello } from "../../src/engine/network/client-hello";
import type { ExecutionRequest } from "../../src/protocol/execution";
import { testEngine } from "../helpers";
import { clientHello } from "../tls-hello";
import { type ByteSink, PY_HTTP, shown, startByteSink } from "./network-sinks";
import { ownedContainers } from "./owned-containers";

let sink: ByteSink;
let engine: DockerIsol8;

beforeAll(async () => {
  sink = await startByteSink("127.0.0.1");
  engine = testEngine({
    config: { network: { hosts: { "sink.test": "127.0.0.1", "other.test": "127.0.0.1" }, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [sink.port] } },
  });
});

beforeEach(() => sink.reset());

afterAll(async () => {
  await engine?.stop();
  if (engine) expect(await ownedContainers(engine)).toEqual([]);
  await sink?.close();
});

/**
 * `tunnel(authority, hex)` opens a CONNECT tunnel through the forwarder, sends the bytes,
 * and returns ["echoed", True] when the sink sent them all back, ["closed", n] when the
 * proxy cut the tunnel after n bytes came back. `tls(authority, name)` runs Python's own
 * TLS client in a tunnel and returns how its handshake ended.
 */
const PY_TUNNEL = String.raw`
import socket, ssl

def open_tunnel(authority):
    s = socket.create_connection(("127.0.0.1", proxy_port()), 20)
    s.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("no answer to CONNECT")
        head += chunk
    assert head.startswith(b"HTTP/1.1 200 "), head
    return s

def tunnel(authority, payload_hex):
    s = open_tunnel(authority)
    payload = bytes.fromhex(payload_hex)
    s.sendall(payload)
    s.settimeout(20)
    got = b""
    while len(got) < len(payload):
        chunk = s.recv(65536)
        if not chunk:
            return ["closed", len(got)]
        got += chunk
    s.close()
    return ["echoed", got == payload]

def tls(authority, server_hostname):
    s = open_tunnel(authority)
    s.settimeout(20)
    try:
        ssl.create_default_context().wrap_socket(s, server_hostname=server_hostname)
        return "handshake done"
    except (ssl.SSLZeroReturnError, ssl.SSLEOFError, ConnectionResetError, BrokenPipeError):
        return "cut"
    except ssl.SSLError as e:
        return f"answered: {e.reason}"  # the sink echoed the hello back: no TLS server, but the bytes arrived
`;

function py(code: string, request: Partial<ExecutionRequest> = {}) {
  return engine.execute({
    runtime: "python",
    network: "filtered",
    allow: ["sink.test", "other.test"],
    logNetwork: true,
    timeoutMs: 60_000,
    code: `${PY_HTTP}\n${PY_TUNNEL}\n${code}`,
    ...request,
  });
}

const hex = (bytes: Buffer) => bytes.toString("hex");
/** The server name of the ClientHello a sink connection received, or what it was instead. */
const helloName = (bytes: Buffer) => {
  const reading = readClientHello(bytes);
  return reading.state === "complete" ? reading.serverName : `${reading.state} (${bytes.length} bytes)`;
};

describe("filtered: a CONNECT tunnel carries the host it was opened for", () => {
  test("a raw ClientHello naming another (allowed) host is cut and the sink receives nothing; the matching twin reaches the sink", async () => {
    const authority = `sink.test:${sink.port}`;
    const r = await py(`show("other", tunnel(${JSON.stringify(authority)}, "${hex(clientHello("other.test"))}"))
show("twin", tunnel(${JSON.stringify(authority)}, "${hex(clientHello("sink.test"))}"))`);
    expect(r.exitCode).toBe(0);
    expect(shown(r.stdout)).toEqual({ other: ["closed", 0], twin: ["echoed", true] });
    // The cut tunnel's connection was opened (the CONNECT itself was allowed) and never written to.
    expect(sink.received.map((bytes) => bytes.length)).toEqual([0, clientHello("sink.test").length]);
    expect(helloName(sink.received[1]!)).toBe("sink.test");
    const tunnels = (r.networkLogs ?? []).map(({ method, host, action, reason }) => ({ method, host, action, reason }));
    expect(tunnels).toEqual([
      { method: "CONNECT", host: "sink.test", action: "BLOCK", reason: 'TLS server name "other.test" does not match the tunnel\'s host "sink.test"' },
      { method: "CONNECT", host: "sink.test", action: "ALLOW", reason: undefined },
    ]);
  });

  test("the whole class: no server name for a name, look-alike and sub-domain names, non-TLS bytes are cut; case and a trailing dot are the same host", async () => {
    const authority = JSON.stringify(`sink.test:${sink.port}`);
    const attacks = {
      none: clientHello(null),
      sub: clientHello("x.sink.test"),
      longer: clientHello("sink.test.evil.test"),
      raw: Buffer.from("raw bytes, not TLS"),
    };
    const twins = { upper: clientHello("SINK.TEST"), dot: clientHello("sink.test.") };
    const lines = Object.entries({ ...attacks, ...twins }).map(([label, bytes]) => `show("${label}", tunnel(${authority}, "${hex(bytes)}"))`);
    const r = await py(lines.join("\n"));
    const out = shown(r.stdout);
    for (const label of Object.keys(attacks)) expect(out[label]).toEqual(["closed", 0]);
    for (const label of Object.keys(twins)) expect(out[label]).toEqual(["echoed", true]);
    expect(sink.received.map((bytes) => bytes.length)).toEqual([0, 0, 0, 0, twins.upper.length, twins.dot.length]);
    expect((r.networkLogs ?? []).map((e) => e.action)).toEqual(["BLOCK", "BLOCK", "BLOCK", "BLOCK", "ALLOW", "ALLOW"]);
  });

  test("a real TLS client (Python's ssl) is cut when its server name differs; with the tunnel's name its hello reaches the sink", async () => {
    const authority = JSON.stringify(`sink.test:${sink.port}`);
    const r = await py(`show("other", tls(${authority}, "other.test"))
show("twin", tls(${authority}, "sink.test"))`);
    expect(shown(r.stdout)).toEqual({ other: "cut", twin: "answered: UNEXPECTED_MESSAGE" });
    expect(sink.received).toHaveLength(2);
    expect(sink.received[0]!.length).toBe(0);
    expect(helloName(sink.received[1]!)).toBe("sink.test");
  });
});
