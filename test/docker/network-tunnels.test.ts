// Real-Docker proof that a CONNECT tunnel carries only the host it was opened for: from
// inside a filtered sandbox, raw TLS ClientHellos (and a real TLS client) go through the
// proxy to a sink that records and echoes every byte. A hello naming another host, even
// an allowed one, is cut before the sink sees a byte; the matching twin reaches the sink.
// Also: hellos without a name to an IP literal, plain HTTP inside a tunnel (to an HTTP
// sink), encrypted ClientHellos (cut even with the tunnel's outer name), and the TLS
// clients of every runtime, which send no ECH.
//
// SAFETY: the only destinations are sinks this file starts on 127.0.0.1. Names come from
// the engine's static host table, so nothing is looked up.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import { readClientHello } from "../../src/engine/network/client-hello";
import type { ExecutionRequest } from "../../src/protocol/execution";
import { testEngine } from "../helpers";
import { clientHello } from "../tls-hello";
import { type ByteSink, type HttpSink, PY_HTTP, shown, startByteSink, startHttpSink } from "./network-sinks";
import { ownedContainers } from "./owned-containers";

let sink: ByteSink;
/** An HTTP server on 127.0.0.1 (web.test), for plain HTTP inside tunnels. */
let web: HttpSink;
let engine: DockerIsol8;

beforeAll(async () => {
  sink = await startByteSink("127.0.0.1");
  web = await startHttpSink("127.0.0.1");
  const hosts = { "sink.test": "127.0.0.1", "other.test": "127.0.0.1", "web.test": "127.0.0.1" };
  engine = testEngine({ config: { network: { hosts, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [sink.port, web.port] } } });
});

beforeEach(() => {
  sink.reset();
  web.reset();
});

afterAll(async () => {
  await engine?.stop();
  if (engine) expect(await ownedContainers(engine)).toEqual([]);
  await sink?.close();
  await web?.close();
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
    # Our end first, then the sink's (it ends when we do): the tunnel is over before the
    # program exits, so the proxy never has to cut it at the end of the execution.
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()
    return ["echoed", got == payload]

def http_in_tunnel(authority, request):
    # The raw request bytes inside an open tunnel; returns [status, body] of whatever answers (the proxy's refusal or the upstream), [None, n] when cut with n bytes
    s = open_tunnel(authority)
    s.sendall(request.encode("latin1"))
    s.settimeout(20)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    if not data.startswith(b"HTTP/"):
        return [None, len(data)]
    head, _, body = data.decode("latin1").partition("\r\n\r\n")
    return [int(head.split(" ")[1]), body]

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

/** An encrypted_client_hello extension (RFC 9849 §5): outer type, HPKE suite, config id, enc, payload. */
const echExtension = (type = 0xfe0d, variant = 0) =>
  [
    type,
    Buffer.concat([Buffer.from([variant, 0, 1, 0, 1, 0x42, 0, 32]), Buffer.alloc(32, 0x11), Buffer.from([0, 200]), Buffer.alloc(200, 0x22)]),
  ] as [number, Buffer];

describe("filtered: tunnels to an IP literal, plain HTTP in a tunnel, encrypted ClientHellos", () => {
  test("a tunnel to an IP literal inside allowedCidrs: hellos without a server name reach the sink; one naming any host (an allowed one too) is cut", async () => {
    const authority = JSON.stringify(`127.0.0.1:${sink.port}`);
    const twins = { noName: clientHello(null), noExtensions: clientHello(null, { noExtensions: true }), literalName: clientHello("127.0.0.1") };
    const attacks = { allowedName: clientHello("sink.test"), otherName: clientHello("other.test") };
    const lines = Object.entries({ ...twins, ...attacks }).map(([label, bytes]) => `show("${label}", tunnel(${authority}, "${hex(bytes)}"))`);
    const r = await py(lines.join("\n"), { allow: ["127.0.0.1", "sink.test", "other.test"] });
    const out = shown(r.stdout);
    for (const label of Object.keys(twins)) expect([label, out[label]]).toEqual([label, ["echoed", true]]);
    for (const label of Object.keys(attacks)) expect([label, out[label]]).toEqual([label, ["closed", 0]]);
    expect(sink.received.map((bytes) => bytes.length)).toEqual([twins.noName.length, twins.noExtensions.length, twins.literalName.length, 0, 0]);
    expect((r.networkLogs ?? []).map(({ host, action, reason }) => [host, action, reason])).toEqual([
      ["127.0.0.1", "ALLOW", undefined],
      ["127.0.0.1", "ALLOW", undefined],
      ["127.0.0.1", "ALLOW", undefined],
      ["127.0.0.1", "BLOCK", 'TLS server name "sink.test" does not match the tunnel\'s host "127.0.0.1"'],
      ["127.0.0.1", "BLOCK", 'TLS server name "other.test" does not match the tunnel\'s host "127.0.0.1"'],
    ]);
  });

  test("plain HTTP in a tunnel naming another Host (an allowed one, another port, none, an absolute URL elsewhere) is refused inside the tunnel and the server records nothing; the matching request is forwarded once", async () => {
    const authority = `web.test:${web.port}`;
    const request = (head: string) => JSON.stringify(`${head}\r\n\r\n`);
    const attacks: Record<string, [head: string, status: number, reason: string]> = {
      otherHost: [`GET /other HTTP/1.1\r\nHost: other.test:${web.port}`, 403, `Host header "other.test:${web.port}" does not match the tunnel's host "${authority}"`],
      otherPort: [`GET /port HTTP/1.1\r\nHost: web.test:${sink.port}`, 403, `Host header "web.test:${sink.port}" does not match the tunnel's host "${authority}"`],
      noHost: ["GET /nohost HTTP/1.1", 400, "missing Host header"],
      absoluteElsewhere: [`GET http://other.test:${web.port}/absolute HTTP/1.1\r\nHost: other.test:${web.port}`, 400, "a request inside a tunnel must use origin-form (/path)"],
      twoHosts: [`GET /two HTTP/1.1\r\nHost: ${authority}\r\nHost: other.test:${web.port}`, 400, "more than one Host header"],
    };
    const twins = {
      match: request(`GET /match HTTP/1.1\r\nHost: ${authority}`),
      // a second request pipelined after the first is never forwarded: one request per tunnel
      pipelined: JSON.stringify(`GET /first HTTP/1.1\r\nHost: ${authority}\r\n\r\nGET /second HTTP/1.1\r\nHost: other.test:${web.port}\r\n\r\n`),
    };
    const texts = { ...Object.fromEntries(Object.entries(attacks).map(([label, [head]]) => [label, request(head)])), ...twins };
    const lines = Object.entries(texts).map(([label, text]) => `show("${label}", http_in_tunnel(${JSON.stringify(authority)}, ${text}))`);
    const r = await py(lines.join("\n"), { allow: ["web.test", "other.test"] });
    expect(r.stderr).toBe("");
    const out = shown(r.stdout);
    for (const [label, [, status, reason]] of Object.entries(attacks)) expect([label, out[label]]).toEqual([label, [status, `${reason}\n`]]);
    expect(out.match).toEqual([200, `sink ${authority} /match`]);
    expect(out.pipelined).toEqual([200, `sink ${authority} /first`]);
    expect(web.requests.map((seen) => seen.url)).toEqual(["/match", "/first"]);
    const logged = (r.networkLogs ?? []).map((e) => [e.action, e.reason]);
    expect(logged).toEqual([...Object.values(attacks).map(([, , reason]) => ["BLOCK", reason]), ["ALLOW", undefined], ["ALLOW", undefined]]);
  });
  // Decision (docs/SECURITY.md D13): the outer server name is all a proxy can read, and with
  // ECH it names the client-facing server while the name actually asked for is encrypted
  // inside, so a hello carrying ECH is cut even when its outer name is the tunnel's host.
  test("an encrypted ClientHello (ECH) is cut even when its outer server name is the tunnel's host: final and draft code points, ESNI, no outer name to an IP literal; the same hellos without the extension reach the sink", async () => {
    const name = JSON.stringify(`sink.test:${sink.port}`);
    const literal = JSON.stringify(`127.0.0.1:${sink.port}`);
    const cases: [label: string, authority: string, bytes: Buffer, reaches: boolean][] = [
      ["ech", name, clientHello("sink.test", { extraExtensions: [echExtension()] }), false],
      ["echInner", name, clientHello("sink.test", { extraExtensions: [echExtension(0xfe0d, 1)] }), false],
      ["echDraft08", name, clientHello("sink.test", { extraExtensions: [echExtension(0xfe08)] }), false],
      ["echDraft0a", name, clientHello("sink.test", { extraExtensions: [echExtension(0xfe0a)] }), false],
      ["esni", name, clientHello("sink.test", { extraExtensions: [echExtension(0xffce)] }), false],
      ["echLiteral", literal, clientHello(null, { extraExtensions: [echExtension()] }), false],
      ["twin", name, clientHello("sink.test"), true],
      ["twinLiteral", literal, clientHello(null), true],
      // an unrelated unknown extension is not mistaken for ECH
      ["twinOtherExtension", name, clientHello("sink.test", { extraExtensions: [[0xfe0c + 0x100, Buffer.from([1, 2, 3])]] }), true],
    ];
    const lines = cases.map(([label, authority, bytes]) => `show("${label}", tunnel(${authority}, "${hex(bytes)}"))`);
    const r = await py(lines.join("\n"), { allow: ["sink.test", "127.0.0.1"] });
    const out = shown(r.stdout);
    for (const [label, , , reaches] of cases) expect([label, out[label]]).toEqual([label, reaches ? ["echoed", true] : ["closed", 0]]);
    expect(sink.received.map((bytes) => bytes.length)).toEqual(cases.map(([, , bytes, reaches]) => (reaches ? bytes.length : 0)));
    const reasons = (r.networkLogs ?? []).map((e) => e.reason ?? e.action);
    expect(reasons).toEqual(cases.map(([, , , reaches]) => (reaches ? "ALLOW" : "an encrypted TLS ClientHello (ECH) hides the server name")));
  });

  test.each([
    ["python (ssl)", "python", `import urllib.request\ntry:\n    urllib.request.urlopen("https://sink.test:SINK_PORT/", timeout=20)\nexcept Exception as e:\n    print("failed as expected:", type(e).__name__)`],
    ["node (fetch)", "node", `try { await fetch("https://sink.test:SINK_PORT/"); } catch (e) { console.log("failed as expected:", e.name); }`],
    ["bun (fetch)", "bun", `try { await fetch("https://sink.test:SINK_PORT/"); } catch (e) { console.log("failed as expected:", e.name); }`],
    ["deno (fetch)", "deno", `try { await fetch("https://sink.test:SINK_PORT/"); } catch (e) { console.log("failed as expected:", e.name); }`],
    // the bash image has no curl: openssl's own client, through the proxy the way curl would go
    ["bash (openssl s_client)", "bash", `timeout 20 openssl s_client -proxy "\${HTTPS_PROXY#http://}" -connect sink.test:SINK_PORT -servername sink.test </dev/null >/dev/null 2>&1; echo "failed as expected: $?"`],
  ] as const)("still works: %s's own TLS client through the proxy sends no ECH: its hello, naming the tunnel's host, reaches the sink", async (_label, runtime, code) => {
    const r = await engine.execute({
      runtime,
      network: "filtered",
      allow: ["sink.test"],
      logNetwork: true,
      timeoutMs: 60_000,
      code: code.replaceAll("SINK_PORT", String(sink.port)),
    });
    expect(r.stdout).toStartWith("failed as expected:"); // the sink is no TLS server: it echoes the hello back
    expect(sink.received.length).toBeGreaterThanOrEqual(1);
    const hello = readClientHello(sink.received[0]!);
    expect(hello).toEqual({ state: "complete", serverName: "sink.test", encryptedClientHello: false });
    expect((r.networkLogs ?? [])[0]).toMatchObject({ method: "CONNECT", host: "sink.test", action: "ALLOW" });
  }, 60_000);
});
