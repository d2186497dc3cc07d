// Connection caps of `isol8 serve` (E9): open connections in all, per client address, and those
// on which no key was presented yet. A connection over a cap is answered 503 (or reset) at
// accept and never reaches the app; connections already open keep working. Two loopback
// addresses stand for two clients (127.0.0.1 and 127.0.0.2). The servers run no executions
// (no pool: they create no containers).
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { serverProcesses, type StartedServer } from "./server-process";

const KEY = "e2e-caps-key";
/** "Closed at once": well under the header deadline (10 s) and the idle timeout that would close it otherwise. */
const AT_ONCE_MS = 1000;
const servers = serverProcesses("isol8-caps-");
afterAll(() => servers.cleanup());

const start = (server: object) => servers.start({ config: { poolSize: 0, server }, keys: [KEY] });

interface Connection {
  socket: Socket;
  received(): string;
  /** Milliseconds from connect to close, once closed. */
  closedAfterMs: Promise<number>;
  waitFor(text: string): Promise<void>;
  /** Sends a request with the key on this (kept-alive) connection and resolves with its status line. */
  ask(path: string, key?: string): Promise<string>;
}

/** A raw TCP connection to the server from `localAddress`; writes `head` once connected. */
function open(server: StartedServer, localAddress: string, head = ""): Promise<Connection> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress });
    let received = "";
    let connectedAt = 0;
    const waiters: { text: string; from: number; done: () => void }[] = [];
    const closedAfterMs = new Promise<number>((done) => socket.on("close", () => done(Date.now() - connectedAt)));
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      for (const waiter of waiters.splice(0)) {
        if (received.indexOf(waiter.text, waiter.from) >= 0) waiter.done();
        else waiters.push(waiter);
      }
    });
    const waitFor = (text: string, from = 0) =>
      received.indexOf(text, from) >= 0 ? Promise.resolve() : new Promise<void>((done) => waiters.push({ text, from, done }));
    socket.on("connect", () => {
      connectedAt = Date.now();
      if (head) socket.write(head);
      resolve({
        socket,
        received: () => received,
        closedAfterMs,
        waitFor,
        async ask(path, key = KEY) {
          const from = received.length;
          socket.write(`GET ${path} HTTP/1.1\r\nHost: isol8.test\r\nAuthorization: Bearer ${key}\r\n\r\n`);
          await waitFor("\r\n\r\n", from);
          await Bun.sleep(20); // the rest of the (small) answer
          return received.slice(from, received.indexOf("\r\n", from));
        },
      });
    });
  });
}

const health = (id: string) => `GET /health HTTP/1.1\r\nHost: isol8.test\r\nX-Request-Id: ${id}\r\n\r\n`;

/** Sends a header line every 500 ms, never ending the headers. */
function trickle(connection: Connection) {
  connection.socket.write("GET /health HTTP/1.1\r\nHost: isol8.test\r\n");
  const timer = setInterval(() => connection.socket.writable && connection.socket.write("X-Slow: 1\r\n"), 500);
  connection.socket.on("close", () => clearInterval(timer));
}

/** A refused connection: answered 503 (Retry-After, Connection: close) or reset, closed at once, never served. */
async function expectRefused(connection: Connection, cap: string) {
  const closedAfter = await connection.closedAfterMs;
  const received = connection.received();
  expect(closedAfter).toBeLessThan(AT_ONCE_MS);
  // A client that already sent its request may see a reset instead of the 503 (its bytes are never read).
  if (received !== "") {
    expect(received).toStartWith("HTTP/1.1 503 Service Unavailable\r\n");
    expect(received).toContain("\r\nRetry-After: 1\r\n");
    expect(received).toContain("\r\nConnection: close\r\n");
    expect(received).toContain(`(server.${cap})`);
  }
  return closedAfter;
}

/** Open file descriptors of a process (its sockets among them). */
const fdsOf = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe("isol8 serve: connection caps", () => {
  test("unauthenticated: N+10 connections without a key (idle, trickling headers, asking /health) → the 10 over the cap are closed at once, never served; a client with a key keeps getting 200", async () => {
    const N = 20;
    const server = await start({ maxUnauthenticatedConnections: N });
    const pid = server.child.pid!;
    // The valid client: a kept-alive connection that presented its key before the flood.
    const valid = await open(server, "127.0.0.2");
    expect(await valid.ask("/sessions")).toBe("HTTP/1.1 200 OK");
    const fdsBefore = fdsOf(pid);

    const held: Connection[] = [];
    for (let i = 0; i < N - 1; i++) {
      const connection = await open(server, i % 2 ? "127.0.0.1" : "127.0.0.2");
      if (i % 3 === 0) trickle(connection);
      held.push(connection);
    }
    // The last one under the cap asks /health without a key: served, and still unauthenticated.
    const last = await open(server, "127.0.0.1", health("under-the-cap"));
    await last.waitFor("HTTP/1.1 200");
    held.push(last);

    const over: Connection[] = [];
    for (let i = 0; i < 10; i++) {
      const connection = await open(server, i % 2 ? "127.0.0.1" : "127.0.0.2", i % 3 === 0 ? health(`over-the-cap-${i}`) : "");
      if (i % 3 === 1) trickle(connection);
      over.push(connection);
    }
    const closes = [];
    for (const connection of over) closes.push(await expectRefused(connection, "maxUnauthenticatedConnections"));
    const fdsDuring = fdsOf(pid);

    // Twin: the client with a key keeps working; the held connections are still open.
    for (let i = 0; i < 3; i++) expect(await valid.ask("/sessions")).toBe("HTTP/1.1 200 OK");
    expect(held.every((connection) => !connection.socket.closed)).toBe(true);
    console.log(
      `unauthenticated cap ${N}: ${over.length} over it closed after median ${median(closes)} ms, max ${Math.max(...closes)} ms ` +
        `(${over.filter((c) => c.received().startsWith("HTTP/1.1 503")).length} saw the 503, the others a reset); ` +
        `server file descriptors ${fdsBefore} → ${fdsDuring} with ${N} held`,
    );
    // Each held connection costs the server three descriptors (the client's, both ends of the relay).
    expect(fdsDuring - fdsBefore).toBeLessThanOrEqual(3 * N + 5);

    const log = server.stderr();
    expect(log).toContain("requestId=under-the-cap");
    expect(log).not.toContain("over-the-cap");
    expect(log).toMatch(/connections: refused a new connection from 127\.0\.0\.[12] over server\.maxUnauthenticatedConnections \(20\)/);
    expect(log.split("\n").filter((line) => line.includes("connections: refused"))).toHaveLength(1); // at most one line per cap every 10 s

    // Room again once held connections close: a new connection with a key is served.
    for (const connection of held.splice(0, 5)) connection.socket.destroy();
    await Bun.sleep(200);
    const after = await open(server, "127.0.0.1");
    expect(await after.ask("/sessions")).toBe("HTTP/1.1 200 OK");
    for (const connection of [...held, valid, after]) connection.socket.destroy();
    expect(await server.stop()).toBe(0);
  }, 60_000);

  test("an authenticated connection is not counted as unauthenticated", async () => {
    const server = await start({ maxUnauthenticatedConnections: 3 });
    const keyed: Connection[] = [];
    for (let i = 0; i < 3; i++) {
      const connection = await open(server, "127.0.0.1");
      expect(await connection.ask("/sessions")).toBe("HTTP/1.1 200 OK");
      keyed.push(connection);
    }
    const idle = await Promise.all([1, 2, 3].map(() => open(server, "127.0.0.2")));
    await Bun.sleep(200);
    expect(idle.every((connection) => !connection.socket.closed)).toBe(true);
    await expectRefused(await open(server, "127.0.0.2"), "maxUnauthenticatedConnections");
    for (const connection of keyed) expect(await connection.ask("/sessions")).toBe("HTTP/1.1 200 OK");
    for (const connection of [...keyed, ...idle]) connection.socket.destroy();
    expect(await server.stop()).toBe(0);
  }, 60_000);

  test("per address: over server.maxConnectionsPerAddress a new connection from that address is refused, even with a key; its open ones and other addresses keep working", async () => {
    const server = await start({ maxConnectionsPerAddress: 5 });
    const mine: Connection[] = [];
    for (let i = 0; i < 5; i++) {
      const connection = await open(server, "127.0.0.1");
      expect(await connection.ask("/sessions")).toBe("HTTP/1.1 200 OK");
      mine.push(connection);
    }
    const refused = await open(server, "127.0.0.1");
    refused.socket.write(`GET /sessions HTTP/1.1\r\nHost: isol8.test\r\nAuthorization: Bearer ${KEY}\r\nX-Request-Id: refused-by-address\r\n\r\n`);
    await expectRefused(refused, "maxConnectionsPerAddress");
    const other = await open(server, "127.0.0.2");
    expect(await other.ask("/sessions")).toBe("HTTP/1.1 200 OK");
    for (const connection of mine) expect(await connection.ask("/sessions")).toBe("HTTP/1.1 200 OK");
    expect(server.stderr()).not.toContain("refused-by-address");
    // One closes: room for one more from that address.
    mine.shift()!.socket.destroy();
    await Bun.sleep(200);
    const again = await open(server, "127.0.0.1");
    expect(await again.ask("/sessions")).toBe("HTTP/1.1 200 OK");
    for (const connection of [...mine, other, again]) connection.socket.destroy();
    expect(await server.stop()).toBe(0);
  }, 60_000);

  test("in all: over server.maxConnections a new connection from any address is refused; the open ones keep working", async () => {
    const server = await start({ maxConnections: 6 });
    const open6: Connection[] = [];
    for (let i = 0; i < 6; i++) {
      const connection = await open(server, i % 2 ? "127.0.0.1" : "127.0.0.2");
      expect(await connection.ask("/sessions")).toBe("HTTP/1.1 200 OK");
      open6.push(connection);
    }
    await expectRefused(await open(server, "127.0.0.1"), "maxConnections");
    await expectRefused(await open(server, "127.0.0.2"), "maxConnections");
    for (const connection of open6) expect(await connection.ask("/sessions")).toBe("HTTP/1.1 200 OK");
    for (const connection of open6) connection.socket.destroy();
    expect(await server.stop()).toBe(0);
  }, 60_000);

  test("the HTTP server behind the gate serves no connection made around it (from this machine)", async () => {
    const server = await start({});
    const pid = server.child.pid!;
    const publicPort = Number(new URL(server.url).port);
    // The server's listening TCP sockets on 127.0.0.1: its own inodes among the machine's.
    const inodes = new Set(
      readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
        try {
          return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]].filter(Boolean) as string[];
        } catch {
          return [];
        }
      }),
    );
    const listening = readFileSync(`/proc/${pid}/net/tcp`, "utf8")
      .split("\n")
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === "0A" && f[1]?.startsWith("0100007F:") && inodes.has(f[9]!))
      .map((f) => Number.parseInt(f[1]!.split(":")[1]!, 16));
    const behind = listening.filter((port) => port !== publicPort);
    expect(listening).toContain(publicPort);
    expect(behind.length).toBeGreaterThan(0);
    const answers = await Promise.all(
      behind.map(async (port) => {
        const response = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
        return response ? { status: response.status, body: await response.text() } : null;
      }),
    );
    expect(answers).toContainEqual({ status: 403, body: expect.stringContaining("connect to the server's public address") });
    expect(answers.some((answer) => answer?.status === 200)).toBe(false);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(await server.stop()).toBe(0);
  }, 60_000);
});
