// Shared pieces of the filtered-network tests (real Docker). Not a test file itself.
//
// SAFETY (docs/SECURITY.md, "Safety rule for network tests"): these tests never send traffic off this machine. The
// "outside world" is the sink servers below, listening on loopback or on this host's own
// Docker bridge address; a blocked path is proven by the sink's own record staying empty.
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { createDockerClient, type DockerClient } from "../../src/engine/docker";
import { LABEL_PACKAGES } from "../../src/engine/labels";

export interface SeenRequest {
  method: string;
  url: string;
  host: string | undefined;
}

export interface HttpSink {
  address: string;
  port: number;
  /** Every request the sink answered or is answering. */
  requests: SeenRequest[];
  /** Every TCP connection accepted, whether or not a request followed. */
  connections: number;
  /** Forgets what was seen (between tests). */
  reset(): void;
  close(): Promise<void>;
}

/** Answers a request itself and returns true, or returns false for the default answer. */
export type SinkRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * An HTTP server recording every connection and request. The default answer is 200 with
 * `sink <Host> <path>` so a program can tell which name reached it.
 */
export async function startHttpSink(address: string, route: SinkRoute = () => false): Promise<HttpSink> {
  const sockets = new Set<Socket>();
  const sink: HttpSink = {
    address,
    port: 0,
    requests: [],
    connections: 0,
    reset() {
      sink.requests = [];
      sink.connections = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createHttpServer((req, res) => {
    sink.requests.push({ method: req.method ?? "", url: req.url ?? "", host: req.headers.host });
    if (route(req, res)) return;
    res.setHeader("content-type", "text/plain");
    res.end(`sink ${req.headers.host} ${req.url}`);
  });
  server.on("connection", (socket) => {
    sink.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => resolve());
  });
  sink.port = (server.address() as { port: number }).port;
  return sink;
}

export interface UdpSink {
  port: number;
  received: { from: string; data: string }[];
  close(): Promise<void>;
}

/** A UDP socket recording every datagram it receives. */
export async function startUdpSink(address: string): Promise<UdpSink> {
  const socket = createSocket("udp4");
  const sink: UdpSink = {
    port: 0,
    received: [],
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on("message", (data, from) => sink.received.push({ from: from.address, data: data.toString("latin1") }));
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, address, () => resolve());
  });
  sink.port = socket.address().port;
  return sink;
}

export interface StallServer {
  port: number;
  /** Connections accepted (each one is held open and never answered). */
  connections: number;
  close(): Promise<void>;
}

/** A TCP server that accepts connections and never answers (a stalled package index). */
export async function startStallServer(address: string): Promise<StallServer> {
  const held = new Set<Socket>();
  const server = createTcpServer((socket) => {
    stall.connections++;
    held.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => held.delete(socket));
    socket.resume(); // read and drop whatever comes; answer nothing
  });
  const stall: StallServer = {
    port: 0,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of held) socket.destroy();
        server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => resolve());
  });
  stall.port = (server.address() as { port: number }).port;
  return stall;
}

export interface ByteSink {
  port: number;
  /** Every byte each accepted connection sent, one entry per connection (empty when it sent none). */
  received: Buffer[];
  reset(): void;
  close(): Promise<void>;
}

/**
 * A TCP server recording every connection's bytes and echoing them back, so a client can
 * tell its bytes arrived (a TLS ClientHello, for instance, with no TLS server behind it).
 */
export async function startByteSink(address: string): Promise<ByteSink> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    const index = sink.received.push(Buffer.alloc(0)) - 1;
    const received = sink.received;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.on("data", (chunk: Buffer) => {
      received[index] = Buffer.concat([received[index]!, chunk]);
      socket.write(chunk);
    });
    socket.on("end", () => socket.end());
  });
  const sink: ByteSink = {
    port: 0,
    received: [],
    reset() {
      sink.received = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => resolve());
  });
  sink.port = (server.address() as { port: number }).port;
  return sink;
}

/** IPv4 addresses of this machine's own interfaces, by interface (`ip -j`: node's list skips interfaces without carrier, like an idle docker0). */
function localAddresses(): Map<string, string[]> {
  const ip = spawnSync("ip", ["-j", "-4", "addr", "show"], { encoding: "utf8" });
  if (ip.status !== 0) throw new Error(`Cannot list this machine's addresses: ip exited ${ip.status}: ${ip.stderr}`);
  const found = new Map<string, string[]>();
  for (const link of JSON.parse(ip.stdout) as { ifname: string; addr_info: { local: string }[] }[]) {
    found.set(link.ifname, link.addr_info.map((a) => a.local));
  }
  return found;
}

/**
 * This host's address on Docker's default bridge (the gateway the containers of that
 * network would route through). Read from `docker network inspect bridge`, or from the
 * docker0 interface when the network does not name its gateway. Throws unless the address
 * belongs to one of this machine's interfaces: the tests never aim at anything else.
 */
export function hostBridgeAddress(): string {
  const inspect = spawnSync("docker", ["network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"], { encoding: "utf8" });
  const configs = inspect.status === 0 ? (JSON.parse(inspect.stdout) as { Gateway?: string }[]) : [];
  const local = localAddresses();
  const fromDocker = configs.map((c) => c.Gateway).find((g): g is string => Boolean(g && !g.includes(":")));
  const address = fromDocker ?? local.get("docker0")?.[0];
  if (!address) throw new Error("Cannot find the host's Docker bridge address (docker network inspect bridge, docker0)");
  if (![...local.values()].flat().includes(address)) {
    throw new Error(`Refusing to use "${address}" as a sink address: it is not an address of this machine`);
  }
  return address;
}

/** JSON lines printed by a program, parsed. */
export function jsonLines<T = unknown>(stdout: string): T[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{") || line.startsWith("["))
    .map((line) => JSON.parse(line) as T);
}

/**
 * Python helpers for the programs: `get(url)` through the proxy variables (urllib honours
 * HTTP_PROXY) and `raw(text)`, which writes a request straight to the in-sandbox forwarder
 * and returns the whole answer; `via(url)` is `raw` for an absolute-form GET. All return `[status, first body line]` (status None when
 * the connection itself failed, with the error as the text).
 */
export const PY_HTTP = String.raw`
import json, os, socket, urllib.error, urllib.request

def get(url, timeout=20):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return [r.status, r.read().decode()]
    except urllib.error.HTTPError as e:
        return [e.code, e.read().decode()]
    except Exception as e:
        return [None, repr(e)]

def proxy_port():
    return int(os.environ["HTTP_PROXY"].rsplit(":", 1)[1])

def raw(text, timeout=20):
    s = socket.create_connection(("127.0.0.1", proxy_port()), timeout)
    s.sendall(text.encode("latin1"))
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.decode("latin1").partition("\r\n\r\n")
    return [int(head.split(" ")[1]), body]

def via(url):
    # NO_PROXY names 127.0.0.1 (the forwarder), so urllib would not proxy a loopback literal.
    authority = url.split("/")[2]
    return raw(f"GET {url} HTTP/1.1\r\nHost: {authority}\r\n\r\n")

def show(label, value):
    print(json.dumps({"label": label, "value": value}), flush=True)
`;

/** What a PY_HTTP program printed with `show(label, value)`, by label. */
export function shown(stdout: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const line of jsonLines<{ label: string; value: unknown }>(stdout)) out[line.label] = line.value;
  return out;
}

/**
 * The real Docker client with baked dependency images hidden: an image some earlier run
 * built with the same packages (isol8 setup --node is-number, isol8 build) would otherwise
 * be used instead of installing, and the install path would go untested.
 */
export function dockerWithoutBakedImages(real: DockerClient = createDockerClient()): DockerClient {
  return new Proxy(real, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === "listImages") {
        return async (...args: Parameters<DockerClient["listImages"]>) => {
          const images = await target.listImages(...args);
          return images.filter((image) => image.labels[LABEL_PACKAGES] === undefined);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
