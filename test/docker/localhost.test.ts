// `localhost` resolves inside every sandbox (docs/SECURITY.md D1): without a network Docker
// writes no /etc/hosts (and covers any the image has with an empty file), so the images answer
// localhost (127.0.0.1 and ::1) and the container's own hostname through NSS "myhostname". Programs
// that test a local server by name work in both network-less modes; a name that is not
// localhost still resolves to nothing (there is no DNS), and nothing leaves the machine: the
// only servers are the ones the program starts on its own loopback.
import { afterAll, describe, expect, test } from "bun:test";
import type { NetworkMode } from "../../src/protocol/execution";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";

const engine = testEngine();
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

const PYTHON = `
import socket
addresses = sorted({(family.name, address[0]) for family, _, _, _, address in socket.getaddrinfo('localhost', 80, proto=socket.IPPROTO_TCP)})
print('resolves', addresses)

def echo_through(family, bind_address):
    server = socket.socket(family)
    server.bind((bind_address, 0))
    server.listen()
    port = server.getsockname()[1]
    # connect by name, to the address family asked for
    info = socket.getaddrinfo('localhost', port, family, socket.SOCK_STREAM)[0]
    client = socket.socket(family)
    client.settimeout(3)
    client.connect(info[4])
    peer, _ = server.accept()
    client.sendall(b'ping')
    return peer.recv(4).decode()

print('v4', echo_through(socket.AF_INET, '127.0.0.1'))
import os
print('v6', echo_through(socket.AF_INET6, '::1') if os.path.exists('/proc/net/if_inet6') else 'kernel without IPv6')

try:
    socket.getaddrinfo('not-localhost.isol8.test', 80)
    print('other name: resolved')
except socket.gaierror as error:
    print('other name: unresolved')
`;

const NODE = `
import http from "node:http";
import dns from "node:dns/promises";
const found = await dns.lookup("localhost", { all: true });
console.log("resolves", found.map((a) => a.address).sort().join(" "));
const server = http.createServer((_, res) => res.end("pong"));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address();
const body = await (await fetch(\`http://localhost:\${port}/\`)).text();
console.log("fetch", body);
server.close();
try {
  await dns.lookup("not-localhost.isol8.test");
  console.log("other name: resolved");
} catch {
  console.log("other name: unresolved");
}
`;

describe("localhost resolves in every network-less mode", () => {
  const modes: NetworkMode[] = ["none", "filtered"];

  test.each(modes)("python, network %s: getaddrinfo gives 127.0.0.1 (and ::1); a local server answers by name", async (network) => {
    const r = await engine.execute({ runtime: "python", network, code: PYTHON, timeoutMs: 20_000 });
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toContain("('AF_INET', '127.0.0.1')");
    expect(lines[1]).toBe("v4 ping");
    expect(lines[0]).toContain("('AF_INET6', '::1')");
    // ::1 is on lo whenever the kernel has IPv6 at all
    expect(["v6 ping", "v6 kernel without IPv6"]).toContain(lines[2]!);
    // twin: only localhost resolves; any other name finds nothing
    expect(lines[3]).toBe("other name: unresolved");
  }, 60_000);

  test.each(modes)("node, network %s: dns.lookup and fetch to a local server by name", async (network) => {
    const r = await engine.execute({ runtime: "node", network, code: NODE, fileExtension: ".mjs", timeoutMs: 20_000 });
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^resolves 127\.0\.0\.1( ::1)?$/);
    expect(lines.slice(1)).toEqual(["fetch pong", "other name: unresolved"]);
  }, 60_000);

  const servers: [string, string][] = [
    [
      "bun",
      'const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("pong") });\nconsole.log("fetch", await (await fetch(`http://localhost:${server.port}/`)).text());\nserver.stop(true);',
    ],
    [
      "deno",
      'const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => new Response("pong"));\nconsole.log("fetch", await (await fetch(`http://localhost:${server.addr.port}/`)).text());\nawait server.shutdown();',
    ],
  ];
  test.each(servers)("%s: fetch to a local server by name", async (runtime, code) => {
    const r = await engine.execute({ runtime: runtime as "bun" | "deno", code, timeoutMs: 20_000 });
    expect(r.stdout).toBe("fetch pong\n");
    expect(r.exitCode).toBe(0);
  }, 60_000);

  test("bash: getent finds localhost and the container's own hostname, nothing else", async () => {
    const r = await engine.execute({
      runtime: "bash",
      code: [
        "getent ahosts localhost | cut -d' ' -f1 | sort -u",
        'getent hosts "$(hostname)" >/dev/null && echo "own hostname found"',
        "getent hosts not-localhost.isol8.test || echo unresolved",
        "getent hosts example.localhost.invalid || echo unresolved",
      ].join("\n"),
    });
    expect(r.stdout).toBe("127.0.0.1\n::1\nown hostname found\nunresolved\nunresolved\n");
  }, 60_000);
});
