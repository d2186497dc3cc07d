// The connection gate over loopback: a real Bun.serve behind it, raw TCP clients in front
// (127.0.0.1 and 127.0.0.2 as two client addresses). No wall-clock bounds: each test waits
// for what it expects to happen.
import { afterEach, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import type { ConnectionCapLimits } from "./connection-caps";
import { type ConnectionGate, startConnectionGate } from "./connection-gate";

const WIDE: ConnectionCapLimits = { maxConnections: 10_000, maxConnectionsPerAddress: 10_000, maxUnauthenticatedConnections: 10_000 };
const BIG = new Uint8Array(60 * 1024 * 1024).map((_, i) => i % 251);

interface Pair {
  gate: ConnectionGate;
  /** Requests the HTTP server received, with the peer the gate resolved for each. */
  seen: { path: string; peer: { address: string; port: number } | null }[];
  logged: string[];
  aborted: Promise<void>;
  stop(): void;
}

const running: Pair[] = [];
afterEach(() => {
  for (const pair of running.splice(0)) pair.stop();
});

/** A Bun.serve behind a gate. `/auth` marks its connection authenticated; `/big` answers 60 MiB; `/hold` waits for the client to leave. */
function startPair(limits: ConnectionCapLimits = WIDE, gateOptions: { hostname?: string; now?: () => number } = {}): Pair {
  const seen: Pair["seen"] = [];
  const logged: string[] = [];
  let gate!: ConnectionGate;
  let abortedResolve!: () => void;
  const aborted = new Promise<void>((resolve) => (abortedResolve = resolve));
  const backend = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 30,
    async fetch(request, server) {
      const link = gate.linkOf(server.requestIP(request));
      const path = new URL(request.url).pathname;
      seen.push({ path, peer: link?.peer ?? null });
      if (path === "/auth") link?.authenticated();
      if (path === "/big") return new Response(BIG);
      if (path === "/upload") return new Response(createHash("sha256").update(new Uint8Array(await request.arrayBuffer())).digest("hex"));
      if (path === "/hold") {
        request.signal.addEventListener("abort", () => abortedResolve());
        await aborted;
        return new Response("gone");
      }
      return Response.json(link?.peer ?? null);
    },
  });
  gate = startConnectionGate({
    hostname: gateOptions.hostname ?? "127.0.0.1",
    port: 0,
    backend: { hostname: "127.0.0.1", port: backend.port! },
    limits,
    lingerMs: 30_000,
    log: (line) => logged.push(line),
    ...(gateOptions.now ? { now: gateOptions.now } : {}),
  });
  const pair = {
    gate,
    seen,
    logged,
    aborted,
    stop() {
      gate.stop(true);
      backend.stop(true);
    },
  };
  running.push(pair);
  return pair;
}

interface Client {
  socket: Socket;
  /** Everything received so far (latin1). */
  received(): string;
  /** Resolves when the connection is closed (by either side). */
  closed: Promise<void>;
  /** Resolves once `text` has been received. */
  waitFor(text: string): Promise<void>;
}

/** A raw TCP client of the gate, from `localAddress` (to the gate's IPv6 loopback when it is one); writes `head` (if any) once connected. */
function client(gate: ConnectionGate, head = "", localAddress = "127.0.0.1"): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: localAddress === "::1" ? "::1" : "127.0.0.1", port: gate.port, localAddress });
    let received = "";
    const waiters: { text: string; resolve: () => void }[] = [];
    const closed = new Promise<void>((done) => socket.on("close", () => done()));
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      for (const waiter of waiters.filter((w) => received.includes(w.text))) waiter.resolve();
    });
    socket.on("error", () => {});
    socket.on("connect", () => {
      if (head) socket.write(head);
      resolve({
        socket,
        received: () => received,
        closed,
        waitFor: (text) => (received.includes(text) ? Promise.resolve() : new Promise((done) => waiters.push({ text, resolve: done }))),
      });
    });
    socket.once("error", reject);
  });
}

const get = (path: string, close = false) => `GET ${path} HTTP/1.1\r\nHost: gate.test\r\n${close ? "Connection: close\r\n" : ""}\r\n`;
const until = async (done: () => boolean) => {
  while (!done()) await Bun.sleep(5);
};

describe("connection gate: the relay", () => {
  test("the HTTP server sees the client's own address and port through linkOf", async () => {
    const { gate } = startPair();
    for (const address of ["127.0.0.1", "127.0.0.2"]) {
      const c = await client(gate, get("/peer"), address);
      await c.waitFor("}");
      const body = JSON.parse(c.received().slice(c.received().indexOf("\r\n\r\n") + 4));
      expect(body).toEqual({ address, port: c.socket.localPort });
      c.socket.destroy();
    }
  });

  test("an IPv6 client: the HTTP server sees ::1 and its port", async () => {
    const { gate } = startPair(WIDE, { hostname: "::1" });
    const c = await client(gate, get("/peer"), "::1");
    await c.waitFor("}");
    expect(JSON.parse(c.received().slice(c.received().indexOf("\r\n\r\n") + 4))).toEqual({ address: "::1", port: c.socket.localPort });
    c.socket.destroy();
  });

  test("a connection made to the HTTP server directly, around the gate, has no link", async () => {
    const seen: (object | null)[] = [];
    const { gate } = startPair();
    const direct = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request, server) => (seen.push(gate.linkOf(server.requestIP(request))), new Response("ok")) });
    try {
      await (await fetch(`http://127.0.0.1:${direct.port}/`)).text();
      expect(seen).toEqual([null]);
      expect(gate.linkOf(null)).toBeNull();
    } finally {
      direct.stop(true);
    }
  });

  test("an upload of 20 MiB reaches the HTTP server byte for byte; a 60 MiB answer reaches the client byte for byte", async () => {
    const { gate } = startPair();
    const upload = BIG.subarray(0, 20 * 1024 * 1024);
    const answer = await fetch(`http://127.0.0.1:${gate.port}/upload`, { method: "POST", body: upload });
    expect(await answer.text()).toBe(createHash("sha256").update(upload).digest("hex"));
    const big = new Uint8Array(await (await fetch(`http://127.0.0.1:${gate.port}/big`)).arrayBuffer());
    expect(big.length).toBe(BIG.length);
    expect(Buffer.compare(big, BIG)).toBe(0);
  });

  test("a client that stops reading a 60 MiB answer: the gate holds at most one read's worth (the rest waits in the HTTP server); then it all arrives", async () => {
    const { gate } = startPair();
    const c = await client(gate, get("/big", true));
    c.socket.pause();
    await Bun.sleep(500); // the HTTP server writes until the buffers are full
    const held = gate.stats().heldBytes;
    console.log(`slow reader: the gate holds ${held} bytes of a ${BIG.length}-byte answer`);
    expect(held).toBeLessThan(4 * 1024 * 1024);
    let bytes = 0;
    c.socket.removeAllListeners("data");
    c.socket.on("data", (chunk: Buffer) => (bytes += chunk.length));
    c.socket.resume();
    await c.closed;
    expect(bytes).toBeGreaterThan(BIG.length);
  });

  test("the client leaving mid-request ends the HTTP server's connection: the request's signal aborts", async () => {
    const { gate, aborted, seen } = startPair();
    const c = await client(gate, get("/hold"));
    await until(() => seen.length === 1);
    c.socket.destroy();
    await aborted;
    await until(() => gate.stats().clients === 0 && gate.stats().relays === 0);
  });

  test("1,000 connections opened and closed (by the client, by a reset, by the server): every map of the gate is empty again", async () => {
    const { gate } = startPair();
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const how = i % 3;
          const c = await client(gate, get(i % 2 ? "/auth" : "/peer", how === 2), i % 4 ? "127.0.0.1" : "127.0.0.2");
          await c.waitFor("\r\n\r\n");
          if (how === 0) c.socket.end();
          else if (how === 1) c.socket.resetAndDestroy();
          await c.closed;
        }),
      );
    }
    await until(() => gate.stats().clients === 0 && gate.stats().relays === 0 && gate.stats().open === 0);
    expect(gate.stats()).toEqual({ open: 0, unauthenticated: 0, addresses: 0, relays: 0, clients: 0, heldBytes: 0 });
  }, 60_000);
});

describe("connection gate: the caps", () => {
  const refusedAtOnce = async (gate: ConnectionGate, address = "127.0.0.1") => {
    const c = await client(gate, "", address); // sends nothing: the answer arrives unread
    await c.closed;
    return c.received();
  };

  test("over maxConnectionsPerAddress: 503 with Retry-After and Connection: close at accept, nothing reaches the HTTP server; the open ones keep working; another address opens", async () => {
    const { gate, seen, logged } = startPair({ ...WIDE, maxConnectionsPerAddress: 3 });
    const open = await Promise.all([1, 2, 3].map(() => client(gate, get("/peer"))));
    await Promise.all(open.map((c) => c.waitFor("}")));
    const refused = await refusedAtOnce(gate);
    expect(refused).toStartWith("HTTP/1.1 503 Service Unavailable\r\n");
    expect(refused).toContain("\r\nRetry-After: 1\r\n");
    expect(refused).toContain("\r\nConnection: close\r\n");
    expect(JSON.parse(refused.slice(refused.indexOf("\r\n\r\n") + 4))).toEqual({
      error: { code: "unavailable", message: "too many open connections from this address (server.maxConnectionsPerAddress)", retryable: true },
    });
    expect(seen.length).toBe(3);
    open[0]!.socket.write(get("/peer"));
    await until(() => seen.length === 4);
    const other = await client(gate, get("/peer"), "127.0.0.2");
    await other.waitFor("}");
    expect(logged).toEqual([expect.stringContaining("connections: refused a new connection from 127.0.0.1 over server.maxConnectionsPerAddress (3)")]);
    for (const c of [...open, other]) c.socket.destroy();
  });

  test("over maxUnauthenticatedConnections: refused; a connection on which a request was admitted no longer counts", async () => {
    const { gate } = startPair({ ...WIDE, maxUnauthenticatedConnections: 2 });
    const a = await client(gate, get("/peer"));
    const b = await client(gate, get("/peer"), "127.0.0.2");
    await Promise.all([a.waitFor("}"), b.waitFor("}")]);
    expect(await refusedAtOnce(gate)).toContain("server.maxUnauthenticatedConnections");
    a.socket.write(get("/auth"));
    await until(() => gate.stats().unauthenticated === 1);
    const c = await client(gate, get("/peer"));
    await c.waitFor("}");
    expect(await refusedAtOnce(gate, "127.0.0.2")).toContain("server.maxUnauthenticatedConnections");
    for (const s of [a, b, c]) s.socket.destroy();
  });

  test("over maxConnections: refused, authenticated connections counted too; a closed one makes room", async () => {
    const { gate } = startPair({ ...WIDE, maxConnections: 2 });
    const a = await client(gate, get("/auth"));
    const b = await client(gate, get("/auth"), "127.0.0.2");
    await until(() => gate.stats().unauthenticated === 0 && gate.stats().open === 2);
    expect(await refusedAtOnce(gate, "127.0.0.2")).toContain("server.maxConnections)");
    a.socket.destroy();
    await until(() => gate.stats().open === 1);
    const c = await client(gate, get("/peer"));
    await c.waitFor("}");
    for (const s of [b, c]) s.socket.destroy();
  });

  test("200 refused clients that never close their side (another process): each gets its 503, and the gate holds no descriptor for them", async () => {
    const { gate } = startPair({ ...WIDE, maxConnectionsPerAddress: 1 });
    const holder = await client(gate, get("/peer"));
    await holder.waitFor("}");
    const descriptors = () => readdirSync("/proc/self/fd").length;
    const before = descriptors();
    // The clients: another Bun process, so that this process's descriptors are the gate's alone.
    const script = `
      const net = require("node:net");
      let answered = 0, done = 0;
      for (let i = 0; i < 200; i++) {
        const socket = net.connect({ host: "127.0.0.1", port: ${gate.port}, allowHalfOpen: true });
        socket.once("data", (chunk) => { if (String(chunk).startsWith("HTTP/1.1 503")) answered++; if (++done === 200) console.log(answered); });
      }
      process.stdin.resume(); // holds every connection open until told to go
      process.stdin.on("end", () => process.exit(0));
    `;
    const clients = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "inherit"] });
    const answered = await new Promise<string>((resolve) => clients.stdout!.once("data", (chunk) => resolve(String(chunk).trim())));
    const during = descriptors();
    clients.stdin!.end();
    await new Promise((resolve) => clients.once("exit", resolve));
    console.log(`200 refused connections held open by their clients: ${answered} got the 503; this process's descriptors ${before} → ${during}`);
    expect(answered).toBe("200");
    expect(during - before).toBeLessThan(10);
    holder.socket.destroy();
  });

  test("an IPv6 client counts under its /64 like the auth throttle", async () => {
    const { gate } = startPair({ ...WIDE, maxConnectionsPerAddress: 2 }, { hostname: "::1" });
    const open = [await client(gate, get("/peer"), "::1"), await client(gate, get("/peer"), "::1")];
    await Promise.all(open.map((c) => c.waitFor("}")));
    expect(gate.stats()).toMatchObject({ open: 2, addresses: 1 });
    expect(await refusedAtOnce(gate, "::1")).toContain("server.maxConnectionsPerAddress");
    for (const c of open) c.socket.destroy();
  });

  test("refusals are logged at most once per cap every 10 s, with the count since the last line", async () => {
    let clock = 1_000_000;
    const { gate, logged } = startPair({ ...WIDE, maxConnections: 1 }, { now: () => clock });
    const holder = await client(gate, get("/peer"));
    await holder.waitFor("}");
    for (let i = 0; i < 4; i++) await refusedAtOnce(gate);
    clock += 9_999;
    await refusedAtOnce(gate);
    clock += 1;
    await refusedAtOnce(gate);
    expect(logged).toEqual([
      "connections: refused a new connection from 127.0.0.1 over server.maxConnections (1); further refusals are logged at most once every 10 s",
      "connections: refused 5 new connection(s) over server.maxConnections (1) since the last such line; the latest from 127.0.0.1",
    ]);
    holder.socket.destroy();
  });
});
