// Real-Docker proof that a host NAME in an allow or deny pattern means that host
// (docs/SECURITY.md D11): its dots are literal (`api.allowed.test` never admits
// `apiXallowed.test`, as the regular expression of the same text would), `*.allowed.test`
// names the hosts under the domain and not the domain itself, and a deny name refuses every
// host containing it. Each case runs from a filtered sandbox both as a plain proxied request
// and as a CONNECT tunnel carrying a request, against one sink: a refused case is a 403 and
// the sink records nothing of it; its twins, in the same program, reach the sink.
//
// SAFETY: every name resolves, through the engine's static host table, to a sink this file
// starts on 127.0.0.1. Nothing is looked up and nothing leaves this machine.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { ExecutionRequest } from "../../src/protocol/execution";
import { testEngine } from "../helpers";
import { type HttpSink, PY_HTTP, shown, startHttpSink } from "./network-sinks";
import { ownedContainers } from "./owned-containers";

const NAMES = [
  "api.allowed.test",
  "apixallowed.test",
  "api-allowed.test",
  "x.api.allowed.test",
  "xapi.allowed.test",
  "api.allowed.test.evil.test",
  "allowed.test",
  "x.allowed.test",
  "deep.x.allowed.test",
  "xallowed.test",
  "allowed.test.evil.test",
  "x.allowedxtest",
  "evil.test",
  "api.evil.test",
  "evil.test.other.test",
  "x.evil.test.other.test",
  "evilxtest",
  "notevil.test",
];

let sink: HttpSink;
let engine: DockerIsol8;

beforeAll(async () => {
  sink = await startHttpSink("127.0.0.1");
  // Every name, look-alikes included, points at the sink: were one let through, the sink would record it.
  const hosts = Object.fromEntries(NAMES.map((name) => [name, "127.0.0.1"]));
  engine = testEngine({ config: { network: { hosts, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [sink.port] } } });
});

beforeEach(() => sink.reset());

afterAll(async () => {
  await engine?.stop();
  if (engine) expect(await ownedContainers(engine)).toEqual([]);
  await sink?.close();
});

/**
 * `both(label, host)` shows `<label> plain` (a GET through HTTP_PROXY) and `<label> tunnel`
 * (a CONNECT, then a GET inside the tunnel when it opens): each `[status, first body line]`.
 */
const PY_BOTH = String.raw`
def tunnel_get(host, path):
    authority = f"{host}:{SINK_PORT}"
    s = socket.create_connection(("127.0.0.1", proxy_port()), 20)
    s.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    status_line, _, rest = head.partition(b"\r\n")
    status = int(status_line.split(b" ")[1])
    if status != 200:
        s.close()
        return [status, rest.partition(b"\r\n\r\n")[2].decode()]
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    inner_head, _, body = data.decode("latin1").partition("\r\n\r\n")
    return [int(inner_head.split(" ")[1]), body]

def both(label, host):
    show(label + " plain", get(f"http://{host}:{SINK_PORT}/{label}-plain"))
    show(label + " tunnel", tunnel_get(host, f"/{label}-tunnel"))
`;

function py(code: string, request: Partial<ExecutionRequest>) {
  return engine.execute({
    runtime: "python",
    network: "filtered",
    timeoutMs: 60_000,
    code: `${PY_HTTP}\nSINK_PORT = ${sink.port}\n${PY_BOTH}\n${code}`,
    ...request,
  });
}

/** Runs `both` for every host, by label; returns what the program showed. */
async function judge(hosts: Record<string, string>, request: Partial<ExecutionRequest>): Promise<Record<string, unknown>> {
  const lines = Object.entries(hosts).map(([label, host]) => `both(${JSON.stringify(label)}, ${JSON.stringify(host)})`);
  const r = await py(lines.join("\n"), request);
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  return shown(r.stdout);
}

function expectRefusedBoth(out: Record<string, unknown>, label: string, host: string, why: "is not in the allow list" | "is denied"): void {
  for (const way of ["plain", "tunnel"]) {
    const [status, body] = out[`${label} ${way}`] as [number, string];
    expect([`${label} ${way}`, status, body]).toEqual([`${label} ${way}`, 403, expect.stringContaining(`host "${host}" ${why}`)]);
  }
}

function expectReachedBoth(out: Record<string, unknown>, label: string, host: string): void {
  for (const way of ["plain", "tunnel"]) {
    expect([`${label} ${way}`, out[`${label} ${way}`]]).toEqual([`${label} ${way}`, [200, `sink ${host}:${sink.port} /${label}-${way}`]]);
  }
}

/** What reached the sink, as `host path` (the Host the sink saw, without its port). */
const reached = () => sink.requests.map((r) => `${r.host?.replace(/:\d+$/, "")} ${r.url}`).sort();
const both = (label: string, host: string) => [`${host} /${label}-plain`, `${host} /${label}-tunnel`];

describe("filtered: a host name in an allow pattern is that host", () => {
  test("allow api.allowed.test: apiXallowed.test and every other look-alike get 403 (plain and CONNECT) and the sink records nothing of them; api.allowed.test reaches it", async () => {
    const attacks = {
      dotAsAnyCharacter: "apiXallowed.test",
      dash: "api-allowed.test",
      subdomain: "x.api.allowed.test",
      prefix: "xapi.allowed.test",
      parent: "allowed.test",
      longer: "api.allowed.test.evil.test",
    };
    const twins = { exact: "api.allowed.test", caseAndDot: "API.Allowed.Test." };
    const out = await judge({ ...attacks, ...twins }, { allow: ["api.allowed.test"] });
    for (const [label, host] of Object.entries(attacks)) expectRefusedBoth(out, label, host.toLowerCase(), "is not in the allow list");
    for (const label of Object.keys(twins)) expectReachedBoth(out, label, "api.allowed.test");
    expect(reached()).toEqual([...both("exact", "api.allowed.test"), ...both("caseAndDot", "api.allowed.test")].sort());
  }, 90_000);

  test("allow *.allowed.test: hosts under the domain at any depth pass; the domain itself and look-alikes do not (README: give both to allow both)", async () => {
    const attacks = { domain: "allowed.test", prefix: "xallowed.test", longer: "allowed.test.evil.test", dotAsAnyCharacter: "x.allowedXtest" };
    const twins = { sub: "x.allowed.test", deep: "deep.x.allowed.test" };
    const out = await judge({ ...attacks, ...twins }, { allow: ["*.allowed.test"] });
    for (const [label, host] of Object.entries(attacks)) expectRefusedBoth(out, label, host.toLowerCase(), "is not in the allow list");
    for (const [label, host] of Object.entries(twins)) expectReachedBoth(out, label, host);
    expect(reached()).toEqual([...both("sub", "x.allowed.test"), ...both("deep", "deep.x.allowed.test")].sort());
  }, 90_000);

  test("still works: allow allowed.test and *.allowed.test together admit the domain and its subdomains, and nothing else", async () => {
    const out = await judge({ domain: "allowed.test", sub: "x.allowed.test", prefix: "xallowed.test" }, { allow: ["allowed.test", "*.allowed.test"] });
    expectReachedBoth(out, "domain", "allowed.test");
    expectReachedBoth(out, "sub", "x.allowed.test");
    expectRefusedBoth(out, "prefix", "xallowed.test", "is not in the allow list");
    expect(reached()).toEqual([...both("domain", "allowed.test"), ...both("sub", "x.allowed.test")].sort());
  }, 90_000);
});

describe("filtered: a host name in a deny pattern refuses the hosts containing it", () => {
  test("deny evil.test beside an allow-all expression: every host containing the name gets 403; evilXtest (the dot is literal) and other hosts pass", async () => {
    const attacks = { name: "evil.test", sub: "api.evil.test", longer: "evil.test.other.test", containing: "notevil.test" };
    const twins = { dotAsAnyCharacter: "evilXtest", unrelated: "api.allowed.test" };
    const out = await judge({ ...attacks, ...twins }, { allow: [".*"], deny: ["evil.test"] });
    for (const [label, host] of Object.entries(attacks)) expectRefusedBoth(out, label, host, "is denied");
    expectReachedBoth(out, "dotAsAnyCharacter", "evilxtest");
    expectReachedBoth(out, "unrelated", "api.allowed.test");
    expect(reached()).toEqual([...both("dotAsAnyCharacter", "evilxtest"), ...both("unrelated", "api.allowed.test")].sort());
  }, 90_000);

  test("deny *.evil.test: hosts under the domain (and longer ones holding them) get 403; the domain itself and evilXtest pass", async () => {
    const attacks = { sub: "api.evil.test", longer: "x.evil.test.other.test" };
    const twins = { domain: "evil.test", dotAsAnyCharacter: "evilXtest" };
    const out = await judge({ ...attacks, ...twins }, { allow: [".*"], deny: ["*.evil.test"] });
    for (const [label, host] of Object.entries(attacks)) expectRefusedBoth(out, label, host, "is denied");
    expectReachedBoth(out, "domain", "evil.test");
    expectReachedBoth(out, "dotAsAnyCharacter", "evilxtest");
    expect(reached()).toEqual([...both("domain", "evil.test"), ...both("dotAsAnyCharacter", "evilxtest")].sort());
  }, 90_000);
});
