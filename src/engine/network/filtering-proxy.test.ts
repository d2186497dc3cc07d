// The proxy end to end, on loopback only: the "internet" is sink servers on 127.0.0.1 that
// record every connection, names come from the proxy's static host table, and the
// resolver refuses everything else, so no name is looked up and nothing leaves this machine.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFilteringProxy, type FilteringProxy, type FilteringProxyOptions, type ProxyListener } from "./filtering-proxy";
import { clientHello, clientHelloMessage, tlsRecords } from "../../../test/tls-hello";
import { findHeadEnd } from "./http-head";

// ---------------------------------------------------------------------------------------
// Sinks and a raw client
// ---------------------------------------------------------------------------------------

interface Sink {
  port: number;
  /** Everything each connection sent, in order of arrival. */
  received: string[];
  close(): Promise<void>;
}

/** Starts a loopback server; `onSocket` decides how it answers. Records every connection's bytes. */
async function startSink(onSocket: (socket: Socket, received: () => string) => void): Promise<Sink> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const index = received.push("") - 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => (received[index] += chunk.toString("latin1")));
    onSocket(socket, () => received[index]!);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    received,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP sink: reads one request (head and Content-Length body), answers 200 with the request echoed as the body. */
const httpSink = () =>
  startSink((socket, received) => {
    const tryAnswer = () => {
      const bytes = Buffer.from(received(), "latin1");
      const end = findHeadEnd(bytes);
      if (end === -1) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(received())?.[1] ?? 0);
      const chunked = /\r\ntransfer-encoding: *chunked/i.test(received());
      if (chunked ? !received().endsWith("0\r\n\r\n") : bytes.length < end + length) return;
      socket.off("data", tryAnswer);
      const body = Buffer.from(received(), "latin1");
      socket.end(
        Buffer.concat([
          Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nX-Sink: yes\r\n\r\n`),
          body,
        ]),
      );
    };
    socket.on("data", tryAnswer);
  });

/** An echo sink: sends back every byte, and ends when the client ends. */
const echoSink = () =>
  startSink((socket) => {
    socket.on("data", (chunk: Buffer) => socket.write(chunk));
    socket.on("end", () => socket.end());
  });

type Target = { port: number } | { path: string };

/** Opens a raw connection to the proxy. */
function open(target: Target): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = "path" in target ? connect(target.path) : connect(target.port, "127.0.0.1");
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Reads from a socket until it closes; returns everything it sent. */
function readAll(socket: Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1"))));
}

/** Reads until `predicate` holds for what has arrived so far. */
function readUntil(socket: Socket, predicate: (text: string) => boolean): Promise<string> {
  let text = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (!predicate(text)) return;
      socket.off("data", onData);
      resolve(text);
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error(`closed after ${JSON.stringify(text)}`)));
  });
}

/** Sends raw bytes through the proxy and returns the whole answer. */
async function send(target: Target, request: string | Buffer): Promise<Response> {
  const socket = await open(target);
  const all = readAll(socket);
  socket.write(request);
  return parseResponse(await all);
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

function parseResponse(raw: string): Response {
  const split = raw.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = raw.slice(0, split).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) headers[line.slice(0, line.indexOf(":")).toLowerCase()] = line.slice(line.indexOf(":") + 1).trim();
  return { status: Number(statusLine.split(" ")[1]), headers, body: raw.slice(split + 4), raw };
}

const get = (host: string, port: number, path = "/", extra = "") =>
  `GET http://${host}:${port}${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n${extra}\r\n`;

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

let web: Sink;
let echo: Sink;
let closedPortSink: Sink; // listening, but its port is not in allowedPorts
const lookups: string[] = [];
const proxies: FilteringProxy[] = [];

beforeAll(async () => {
  [web, echo, closedPortSink] = await Promise.all([httpSink(), echoSink(), httpSink()]);
});

afterAll(async () => {
  await Promise.all([web, echo, closedPortSink].map((s) => s.close()));
});

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  for (const sink of [web, echo, closedPortSink]) sink.received.length = 0;
  lookups.length = 0;
});

function makeProxy(options: FilteringProxyOptions = {}): FilteringProxy {
  const proxy = createFilteringProxy({
    hosts: { "sink.test": "127.0.0.1", "other.test": "127.0.0.1", "evil.test": "127.0.0.1" },
    allowedCidrs: ["127.0.0.1/32"],
    allowedPorts: [web.port, echo.port],
    resolve: async (host) => {
      lookups.push(host);
      throw new Error("no name resolution in tests");
    },
    ...options,
  });
  proxies.push(proxy);
  return proxy;
}

/** A proxy with one TCP listener for key "a", with the given policy. */
async function proxyWith(policy: { allow?: string[]; deny?: string[]; maskValues?: string[] }, options: FilteringProxyOptions = {}) {
  const proxy = makeProxy(options);
  const listener = await proxy.listenTcp("a");
  proxy.setPolicy("a", { allow: policy.allow ?? [], deny: policy.deny ?? [], logRequests: true, maskValues: policy.maskValues });
  return { proxy, target: tcpTarget(listener) };
}

/** A port nothing listens on right now (bound and released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const tcpTarget = (listener: ProxyListener) => ({ port: (listener.address as { port: number }).port });

/** A TLS ClientHello naming sink.test: what an HTTPS client sends first through a tunnel to it. */
const HELLO_SINK = clientHello("sink.test");

// ---------------------------------------------------------------------------------------

describe("plain HTTP", () => {
  test("an allowed host gets the sink's answer; the sink sees one origin-form request", async () => {
    const { proxy, target } = await proxyWith({ allow: ["^sink\\.test$"] });
    const res = await send(
      target,
      `GET http://SINK.test:${web.port}/a/b?c=d HTTP/1.1\r\nHost: sink.test:${web.port}\r\nProxy-Authorization: Basic eDp5\r\n` +
        "Proxy-Connection: keep-alive\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nX-Keep: 2\r\n\r\n",
    );
    expect(res.status).toBe(200);
    expect(res.headers["x-sink"]).toBe("yes");
    expect(res.headers.connection).toBe("close");
    expect(res.headers["keep-alive"]).toBeUndefined();
    expect(res.headers["proxy-authenticate"]).toBeUndefined();
    expect(web.received).toHaveLength(1);
    const forwarded = web.received[0]!;
    expect(forwarded).toStartWith(`GET /a/b?c=d HTTP/1.1\r\nHost: sink.test:${web.port}\r\n`);
    expect(forwarded).toContain("X-Keep: 2\r\n");
    expect(forwarded).toContain("Connection: close\r\n");
    expect(forwarded).not.toMatch(/proxy-|x-hop|keep-alive/i);
    expect(res.body).toBe(forwarded);
    const logs = proxy.takeLogs("a");
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ method: "GET", host: "sink.test", port: web.port, path: "/a/b?c=d", action: "ALLOW", status: 200 });
    expect(logs[0]!.bytesOut).toBe(forwarded.length);
    expect(logs[0]!.bytesIn).toBeGreaterThan(forwarded.length);
    expect(new Date(logs[0]!.timestamp).toISOString()).toBe(logs[0]!.timestamp);
    expect(lookups).toEqual([]);
  });

  test("a denied host gets 403 with a one-line reason, and the sink sees nothing", async () => {
    const { proxy, target } = await proxyWith({ allow: ["^sink\\.test$"] });
    const res = await send(target, get("other.test", web.port));
    expect(res.status).toBe(403);
    expect(res.body).toBe('host "other.test" is not in the allow list\n');
    expect(res.headers["x-isol8-reason"]).toBe('host "other.test" is not in the allow list');
    expect(res.headers.connection).toBe("close");
    expect(web.received).toEqual([]);
    expect(proxy.takeLogs("a")).toMatchObject([{ host: "other.test", action: "BLOCK", status: 403, bytesIn: 0, bytesOut: 0 }]);
  });

  test("deny wins over allow", async () => {
    const { target } = await proxyWith({ allow: [".*"], deny: ["^evil\\.test$"] });
    expect((await send(target, get("EVIL.test.", web.port))).status).toBe(403);
    expect(web.received).toEqual([]);
    expect((await send(target, get("sink.test", web.port))).status).toBe(200);
    expect(web.received).toHaveLength(1);
  });

  test("a Host header that differs from the target is refused before anything is sent", async () => {
    const { proxy, target } = await proxyWith({ allow: [".*"] });
    const mismatch = `GET http://sink.test:${web.port}/ HTTP/1.1\r\nHost: evil.test:${web.port}\r\n\r\n`;
    const res = await send(target, mismatch);
    expect(res.status).toBe(403);
    expect(res.body).toBe("Host header does not match the request target\n");
    const portMismatch = `GET http://sink.test:${web.port}/ HTTP/1.1\r\nHost: sink.test\r\n\r\n`;
    expect((await send(target, portMismatch)).status).toBe(403);
    expect(web.received).toEqual([]);
    expect(proxy.takeLogs("a").map((e) => [e.action, e.reason])).toEqual([
      ["BLOCK", "Host header does not match the request target"],
      ["BLOCK", "Host header does not match the request target"],
    ]);
  });

  test("a port outside allowedPorts is refused", async () => {
    const { target } = await proxyWith({ allow: [".*"] });
    const res = await send(target, get("sink.test", closedPortSink.port));
    expect(res.status).toBe(403);
    expect(res.body).toBe(`port ${closedPortSink.port} is not allowed\n`);
    expect(closedPortSink.received).toEqual([]);
  });

  test("an IP literal is refused without a CIDR allowance, and a loopback name too", async () => {
    const { target } = await proxyWith({ allow: [".*"] }, { allowedCidrs: [] });
    for (const host of ["127.0.0.1", "2130706433", "0x7f.0.0.1", "[::ffff:127.0.0.1]"]) {
      const res = await send(target, get(host, web.port));
      expect(res.status).toBe(403);
      expect(res.body).toMatch(/^IP-literal destination ".*" is not allowed\n$/);
    }
    const named = await send(target, get("sink.test", web.port));
    expect(named.status).toBe(403);
    expect(named.body).toBe('host "sink.test" resolves to an internal address (loopback)\n');
    expect(web.received).toEqual([]);
  });

  test("an IP literal inside an allowed CIDR and the allow list goes through", async () => {
    const { target } = await proxyWith({ allow: ["^127\\.0\\.0\\.1$"] });
    expect((await send(target, get("127.0.0.1", web.port))).status).toBe(200);
    expect(web.received[0]).toContain(`Host: 127.0.0.1:${web.port}\r\n`);
  });

  test("a request body is forwarded, and nothing after it (no smuggled second request)", async () => {
    const { target } = await proxyWith({ allow: ["^sink\\.test$"] });
    const smuggled = `GET http://evil.test:${web.port}/ HTTP/1.1\r\nHost: evil.test:${web.port}\r\n\r\n`;
    const post = `POST http://sink.test:${web.port}/up HTTP/1.1\r\nHost: sink.test:${web.port}\r\nContent-Length: 5\r\n\r\nhello${smuggled}`;
    const res = await send(target, post);
    expect(res.status).toBe(200);
    expect(web.received).toHaveLength(1);
    expect(web.received[0]).toEndWith("\r\n\r\nhello");
    expect(web.received[0]).not.toContain("evil");
  });

  test("a chunked body is re-chunked: extensions and trailers dropped, the end found", async () => {
    const { target } = await proxyWith({ allow: ["^sink\\.test$"] });
    const body = "5;ext=1\r\nhello\r\n0A\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
    const after = `GET http://evil.test:${web.port}/ HTTP/1.1\r\n\r\n`;
    const head = `POST http://sink.test:${web.port}/ HTTP/1.1\r\nHost: sink.test:${web.port}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const socket = await open(target);
    const all = readAll(socket);
    socket.write(head);
    socket.write(body.slice(0, 7)); // split inside a chunk line
    socket.write(body.slice(7) + after);
    expect(parseResponse(await all).status).toBe(200);
    expect(web.received[0]).toEndWith("\r\n\r\n5\r\nhello\r\na\r\n0123456789\r\n0\r\n\r\n");
    expect(web.received[0]).not.toContain("evil");
  });

  test("malformed requests get 400 and reach nobody", async () => {
    const { target } = await proxyWith({ allow: [".*"] });
    const cases: [string, string][] = [
      [`GET / HTTP/1.1\r\nHost: sink.test:${web.port}\r\n\r\n`, "origin-form request"],
      ["GARBAGE\r\n\r\n", "malformed request line"],
      [`GET http://sink.test:${web.port}/ HTTP/2.0\r\nHost: sink.test\r\n\r\n`, "malformed request line"],
      [`GET https://sink.test:${web.port}/ HTTP/1.1\r\nHost: sink.test\r\n\r\n`, "https URLs go through CONNECT"],
      [`GET http://u:p@sink.test:${web.port}/ HTTP/1.1\r\nHost: sink.test\r\n\r\n`, "credentials in the URL"],
      [`GET http://sink.test:${web.port}/ HTTP/1.1\r\n\r\n`, "missing Host header"],
      [`GET http://sink.test:${web.port}/ HTTP/1.1\r\nHost: sink.test:${web.port}\r\nHost: sink.test:${web.port}\r\n\r\n`, "more than one Host"],
      [`GET http://sink.test:${web.port}/ HTTP/1.1\r\nHost: sink.test:${web.port}\r\n X: folded\r\n\r\n`, "folded header"],
      [`POST http://sink.test:${web.port}/ HTTP/1.1\r\nHost: sink.test:${web.port}\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`, "both"],
      [`POST http://sink.test:${web.port}/ HTTP/1.1\r\nHost: sink.test:${web.port}\r\nContent-Length: 1, 2\r\n\r\n`, "invalid Content-Length"],
      [`POST http://sink.test:${web.port}/ HTTP/1.1\r\nHost: sink.test:${web.port}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n`, "unsupported Transfer-Encoding"],
      ["CONNECT sink.test HTTP/1.1\r\n\r\n", "CONNECT needs a host:port"],
      ["GET http://sink.test%2f@x/ HTTP/1.1\r\nHost: x\r\n\r\n", "credentials in the URL"],
      ["GET http://sink.test\x01/ HTTP/1.1\r\nHost: x\r\n\r\n", "malformed start line"],
    ];
    for (const [request, reason] of cases) {
      const res = await send(target, request);
      expect([res.status, res.body]).toEqual([400, expect.stringContaining(reason)]);
    }
    expect(web.received).toEqual([]);
  });

  test("a head over the size limit gets 431", async () => {
    const { target } = await proxyWith({ allow: [".*"] }, { limits: { maxHeaderBytes: 1024 } });
    const res = await send(target, `GET http://sink.test:${web.port}/ HTTP/1.1\r\nX-Big: ${"a".repeat(2000)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(web.received).toEqual([]);
  });

  test("an upstream that refuses the connection gives 502, logged as ALLOW with the failure", async () => {
    const port = await freePort();
    const { proxy, target } = await proxyWith({ allow: ["^sink\\.test$"] }, { allowedPorts: [port] });
    const res = await send(target, get("sink.test", port));
    expect(res.status).toBe(502);
    expect(res.body).toBe(`cannot connect to "sink.test:${port}"\n`);
    expect(proxy.takeLogs("a")).toMatchObject([{ action: "ALLOW", status: 502, reason: `cannot connect to "sink.test:${port}"` }]);
  });

  test("a name the resolver cannot resolve gives 502; refused names are never looked up", async () => {
    const { target } = await proxyWith({ allow: ["^(sink|unknown)\\.test$"] });
    expect((await send(target, get("notallowed.test", web.port))).status).toBe(403);
    expect(lookups).toEqual([]);
    const res = await send(target, get("unknown.test", web.port));
    expect(res.status).toBe(502);
    expect(res.body).toBe('cannot resolve host "unknown.test"\n');
    expect(lookups).toEqual(["unknown.test"]);
  });
});

describe("streaming and time limits", () => {
  test("large bodies stream both ways, and bytes are counted", async () => {
    const { proxy, target } = await proxyWith({ allow: ["^sink\\.test$"] });
    const body = Buffer.alloc(2 * 1024 * 1024, "x");
    const head = `POST http://sink.test:${web.port}/big HTTP/1.1\r\nHost: sink.test:${web.port}\r\nContent-Length: ${body.length}\r\n\r\n`;
    const res = await send(target, Buffer.concat([Buffer.from(head), body]));
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(web.received[0]!.length);
    expect(web.received[0]!.length).toBeGreaterThan(body.length);
    const [entry] = proxy.takeLogs("a");
    expect(entry!.bytesOut).toBe(web.received[0]!.length);
    expect(entry!.bytesIn).toBeGreaterThan(res.body.length); // the upstream's bytes, head included
  });

  test("interim 1xx responses pass through; the final head gets Connection: close", async () => {
    const interim = await startSink((socket) =>
      socket.once("data", () => socket.end("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nKeep-Alive: x\r\nContent-Length: 2\r\n\r\nok")),
    );
    try {
      const { proxy, target } = await proxyWith({ allow: ["^sink\\.test$"] }, { allowedPorts: [interim.port] });
      const res = await send(target, get("sink.test", interim.port));
      expect(res.raw).toBe("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
      expect(proxy.takeLogs("a")).toMatchObject([{ status: 201, action: "ALLOW" }]);
    } finally {
      await interim.close();
    }
  });

  test("an unfinished request head gets 408", async () => {
    const { target } = await proxyWith({ allow: [".*"] }, { limits: { headerTimeoutMs: 20 } });
    const res = await send(target, `GET http://sink.test:${web.port}/ HTTP/1.1\r\nHost: sin`);
    expect([res.status, res.body]).toEqual([408, "request head not received in time\n"]);
    expect(web.received).toEqual([]);
  });

  test("an upstream that never answers gets 504 after the idle limit", async () => {
    const silent = await startSink(() => {});
    try {
      const { proxy, target } = await proxyWith({ allow: ["^sink\\.test$"] }, { allowedPorts: [silent.port], limits: { idleTimeoutMs: 30 } });
      const res = await send(target, get("sink.test", silent.port));
      expect([res.status, res.body]).toEqual([504, "upstream did not answer in time\n"]);
      expect(silent.received).toHaveLength(1); // it was reached: the policy allowed it
      expect(proxy.takeLogs("a")).toMatchObject([{ action: "ALLOW", status: 504 }]);
    } finally {
      await silent.close();
    }
  });

  test("an idle tunnel is closed after the idle limit", async () => {
    const { proxy, target } = await proxyWith({ allow: ["^sink\\.test$"] }, { limits: { idleTimeoutMs: 30 } });
    const socket = await open(target);
    const all = readAll(socket);
    socket.write(`CONNECT sink.test:${echo.port} HTTP/1.1\r\n\r\n`);
    expect(await all).toBe("HTTP/1.1 200 Connection Established\r\n\r\n");
    expect(proxy.takeLogs("a")).toMatchObject([{ method: "CONNECT", status: 200, reason: "idle timeout" }]);
  });

  test("HTTP/1.0 without a Host header is forwarded with one", async () => {
    const { target } = await proxyWith({ allow: ["^sink\\.test$"] });
    const res = await send(target, `GET http://sink.test:${web.port}/old HTTP/1.0\r\n\r\n`);
    expect(res.status).toBe(200);
    expect(web.received[0]).toStartWith(`GET /old HTTP/1.0\r\nHost: sink.test:${web.port}\r\n`);
  });
});

describe("CONNECT", () => {
  test("an allowed host:port is tunnelled byte for byte and logged with a null path", async () => {
    const { proxy, target } = await proxyWith({ allow: ["^sink\\.test$"] });
    const socket = await open(target);
    const all = readAll(socket);
    socket.write(`CONNECT sink.test:${echo.port} HTTP/1.1\r\nHost: sink.test:${echo.port}\r\n\r\n`);
    const established = await readUntil(socket, (t) => t.includes("\r\n\r\n"));
    expect(established).toBe("HTTP/1.1 200 Connection Established\r\n\r\n");
    const hello = HELLO_SINK.toString("latin1");
    socket.write(HELLO_SINK);
    socket.write(Buffer.from("ping \u0000\u00ff bytes", "latin1")); // 13 more bytes, not all text
    await readUntil(socket, (t) => t.endsWith("ping \u0000\u00ff bytes"));
    socket.end();
    expect(await all).toBe(`HTTP/1.1 200 Connection Established\r\n\r\n${hello}ping \u0000\u00ff bytes`); // then the proxy closed it
    expect(echo.received).toEqual([`${hello}ping \u0000\u00ff bytes`]);
    const logs = proxy.takeLogs("a");
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ method: "CONNECT", host: "sink.test", port: echo.port, path: null, action: "ALLOW", status: 200 });
    const moved = HELLO_SINK.length + 13;
    expect(logs[0]).toMatchObject({ bytesIn: moved, bytesOut: moved });
    expect(proxy.takeBytes("a")).toEqual({ in: moved, out: moved });
    expect(proxy.takeBytes("a")).toEqual({ in: 0, out: 0 });
  });

  test("bytes sent right after the CONNECT head are tunnelled too", async () => {
    const { target } = await proxyWith({ allow: ["^sink\\.test$"] });
    const socket = await open(target);
    const hello = HELLO_SINK.toString("latin1");
    socket.write(Buffer.concat([Buffer.from(`CONNECT sink.test:${echo.port} HTTP/1.1\r\n\r\n`), HELLO_SINK]));
    const text = await readUntil(socket, (t) => t.endsWith(hello));
    expect(text).toBe(`HTTP/1.1 200 Connection Established\r\n\r\n${hello}`);
    socket.destroy();
  });

  test("a denied CONNECT gets 403 and the sink sees nothing", async () => {
    const { proxy, target } = await proxyWith({ allow: ["^sink\\.test$"], deny: ["sink"] });
    const res = await send(target, `CONNECT sink.test:${echo.port} HTTP/1.1\r\n\r\n`);
    expect(res.status).toBe(403);
    expect(echo.received).toEqual([]);
    expect(proxy.takeLogs("a")).toMatchObject([{ method: "CONNECT", path: null, action: "BLOCK" }]);
  });

  test("CONNECT to a non-web port is refused", async () => {
    const { target } = await proxyWith({ allow: [".*"] });
    for (const port of [22, 25, 6379, closedPortSink.port]) {
      expect((await send(target, `CONNECT sink.test:${port} HTTP/1.1\r\n\r\n`)).status).toBe(403);
    }
    expect(closedPortSink.received).toEqual([]);
  });

  test("CONNECT to the proxy itself is refused even when its port and address are allowed", async () => {
    const port = await freePort();
    const proxy = makeProxy({ allowedCidrs: ["127.0.0.0/8"], allowedPorts: [port] });
    await proxy.listenTcp("a", port);
    proxy.setPolicy("a", { allow: [".*"], deny: [] });
    for (const host of ["127.0.0.1", "sink.test"]) {
      const res = await send({ port }, `CONNECT ${host}:${port} HTTP/1.1\r\n\r\n`);
      expect([res.status, res.body]).toEqual([403, `host "${host}" is the proxy itself\n`]);
    }
  });
});

/** Opens a tunnel, sends `chunks` one read at a time, and returns everything the client got until the proxy closed it. */
async function throughTunnel(target: Target, authority: string, chunks: (string | Buffer)[]): Promise<string> {
  const socket = await open(target);
  const all = readAll(socket);
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  await readUntil(socket, (t) => t.includes("\r\n\r\n")).catch(() => {});
  for (const chunk of chunks) {
    if (socket.destroyed) break;
    socket.write(chunk);
    await Bun.sleep(2); // separate reads on the proxy's side
  }
  if (!socket.destroyed) socket.end();
  return all;
}

const ESTABLISHED = "HTTP/1.1 200 Connection Established\r\n\r\n";

describe("CONNECT tunnels carry the host they were opened for", () => {
  test("a ClientHello naming another host, even an allowed one, closes the tunnel: the upstream gets no byte", async () => {
    const { proxy, target } = await proxyWith({ allow: ["sink.test", "other.test"] });
    const answer = await throughTunnel(target, `sink.test:${echo.port}`, [clientHello("other.test"), "after"]);
    expect(answer).toBe(ESTABLISHED); // then cut
    expect(echo.received).toEqual([""]); // connected (the CONNECT was allowed), never written to
    expect(proxy.takeLogs("a")).toMatchObject([
      { method: "CONNECT", host: "sink.test", action: "BLOCK", status: 200, bytesOut: 0, reason: 'TLS server name "other.test" does not match the tunnel\'s host "sink.test"' },
    ]);
    // Still works: the matching twin reaches the upstream, hello and all.
    const hello = HELLO_SINK.toString("latin1");
    expect(await throughTunnel(target, `sink.test:${echo.port}`, [HELLO_SINK])).toBe(`${ESTABLISHED}${hello}`);
    expect(echo.received).toEqual(["", hello]);
    const [twin] = proxy.takeLogs("a");
    expect([twin?.action, twin?.reason]).toEqual(["ALLOW", undefined]);
  });

  test("the whole class of other names is cut: case and trailing dot are the same host, subdomains and look-alikes are not", async () => {
    const { target } = await proxyWith({ allow: [".*"] });
    for (const name of ["x.sink.test", "sink.test.evil.test", "sinkxtest", "other.test", "127.0.0.1"]) {
      expect(await throughTunnel(target, `sink.test:${echo.port}`, [clientHello(name)])).toBe(ESTABLISHED);
    }
    expect(echo.received.every((r) => r === "")).toBe(true);
    for (const name of ["SINK.TEST", "sink.test.", "Sink.Test."]) {
      const hello = clientHello(name).toString("latin1");
      expect(await throughTunnel(target, `sink.test:${echo.port}`, [clientHello(name)])).toBe(`${ESTABLISHED}${hello}`);
    }
  });

  test("a hello split into records and across reads is held until whole, then judged", async () => {
    const { target } = await proxyWith({ allow: ["sink.test", "other.test"] });
    const split = (name: string) => {
      const records = tlsRecords(clientHelloMessage({ serverNames: [name] }), 50);
      return Array.from({ length: Math.ceil(records.length / 7) }, (_, i) => records.subarray(i * 7, i * 7 + 7));
    };
    expect(await throughTunnel(target, `sink.test:${echo.port}`, split("other.test"))).toBe(ESTABLISHED);
    expect(echo.received).toEqual([""]);
    const whole = Buffer.concat(split("sink.test")).toString("latin1");
    expect(await throughTunnel(target, `sink.test:${echo.port}`, split("sink.test"))).toBe(`${ESTABLISHED}${whole}`);
    expect(echo.received).toEqual(["", whole]);
  });

  test("no server name: refused for a name, accepted for an IP literal inside allowedCidrs", async () => {
    const { proxy, target } = await proxyWith({ allow: ["sink.test", "127.0.0.1"] });
    expect(await throughTunnel(target, `sink.test:${echo.port}`, [clientHello(null)])).toBe(ESTABLISHED);
    const bare = clientHello(null).toString("latin1");
    expect(await throughTunnel(target, `127.0.0.1:${echo.port}`, [clientHello(null)])).toBe(`${ESTABLISHED}${bare}`);
    expect(echo.received).toEqual(["", bare]);
    expect(proxy.takeLogs("a").map((e) => `${e.action} ${e.host} ${e.reason ?? ""}`)).toEqual([
      'BLOCK sink.test TLS ClientHello without a server name (SNI) in a tunnel to "sink.test"',
      "ALLOW 127.0.0.1 ",
    ]);
  });

  test("bytes that are neither TLS nor HTTP are refused; so is a tunnel that sends nothing in time", async () => {
    const { proxy, target } = await proxyWith({ allow: ["sink.test"] }, { limits: { headerTimeoutMs: 30 } });
    expect(await throughTunnel(target, `sink.test:${echo.port}`, [Buffer.from([0, 1, 2, 3])])).toBe(ESTABLISHED);
    const socket = await open(target);
    const silent = readAll(socket);
    socket.write(`CONNECT sink.test:${echo.port} HTTP/1.1\r\n\r\n`);
    expect(await silent).toBe(ESTABLISHED);
    expect(echo.received).toEqual(["", ""]);
    expect(proxy.takeLogs("a").map((e) => `${e.action} ${e.reason}`)).toEqual([
      "BLOCK the tunnel carries neither TLS nor HTTP/1.x",
      "BLOCK no TLS ClientHello or HTTP request received in time",
    ]);
  });

  test("first bytes dribbled in hundreds of pieces are cut (each piece re-judges all held bytes)", async () => {
    const { proxy, target } = await proxyWith({ allow: ["sink.test"] });
    const socket = await open(target);
    socket.setNoDelay(true);
    const all = readAll(socket);
    socket.write(`CONNECT sink.test:${web.port} HTTP/1.1\r\n\r\n`);
    await readUntil(socket, (t) => t.includes("\r\n\r\n"));
    const dribble = `GET / HTTP/1.1\r\nX-Pad: ${"a".repeat(400)}`;
    for (const byte of dribble) {
      if (socket.destroyed) break;
      socket.write(byte);
      await Bun.sleep(1);
    }
    await all;
    expect(web.received).toEqual([""]);
    expect(proxy.takeLogs("a")).toMatchObject([{ action: "BLOCK", reason: "the tunnel's first bytes came in more than 128 pieces" }]);
  });

  test("plain HTTP in a tunnel: the Host must be the tunnel's; the request is forwarded once, with Connection: close", async () => {
    const { proxy, target } = await proxyWith({ allow: ["sink.test", "other.test"] });
    const authority = `sink.test:${web.port}`;
    const foreign = await throughTunnel(target, authority, [`GET /x HTTP/1.1\r\nHost: other.test:${web.port}\r\n\r\n`]);
    const refused = parseResponse(foreign.slice(ESTABLISHED.length));
    expect([refused.status, refused.body]).toEqual([403, `Host header "other.test:${web.port}" does not match the tunnel's host "${authority}"\n`]);
    expect(web.received).toEqual([""]);

    const own = await throughTunnel(target, authority, [`GET /own HTTP/1.1\r\nHost: ${authority}\r\nConnection: keep-alive\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: ${authority}\r\n\r\n`]);
    const answered = parseResponse(own.slice(ESTABLISHED.length));
    expect(answered.status).toBe(200);
    expect(answered.headers.connection).toBe("close");
    expect(web.received[1]).toBe(`GET /own HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`); // one request, nothing after it
    expect(proxy.takeLogs("a").map((e) => `${e.method} ${e.action} ${e.status}`)).toEqual(["CONNECT BLOCK 403", "CONNECT ALLOW 200"]);
  });

  test("catastrophic deny patterns: CONNECTs to 30-character all-a hosts are refused with 403, other hosts pass", async () => {
    const deny = Array.from({ length: 8 }, () => "(a+)+$");
    const host = "a".repeat(30);
    const { proxy, target } = await proxyWith({ allow: [".*"], deny }, { hosts: { [host]: "127.0.0.1", "sink.test": "127.0.0.1" } });
    const answers = await Promise.all(Array.from({ length: 8 }, () => send(target, `CONNECT ${host}:${echo.port} HTTP/1.1\r\n\r\n`)));
    for (const answer of answers) expect([answer.status, answer.body]).toEqual([403, `host "${host}" is denied by the network policy\n`]);
    expect(echo.received).toEqual([]);
    const hello = HELLO_SINK.toString("latin1");
    expect(await throughTunnel(target, `sink.test:${echo.port}`, [HELLO_SINK])).toBe(`${ESTABLISHED}${hello}`);
    expect(proxy.takeLogs("a").filter((e) => e.action === "BLOCK")).toHaveLength(8);
  });
});

describe("per-key policies and logs", () => {
  test("with no policy for a key, connections get 403 \"no execution is running\"", async () => {
    const proxy = makeProxy();
    const listener = await proxy.listenTcp("idle");
    const res = await send(tcpTarget(listener), get("sink.test", web.port));
    expect(res.status).toBe(403);
    expect(res.body).toBe("no execution is running\n");
    expect(web.received).toEqual([]);
    proxy.setPolicy("idle", { allow: [".*"], deny: [] });
    proxy.clearPolicy("idle");
    expect((await send(tcpTarget(listener), get("sink.test", web.port))).body).toBe("no execution is running\n");
  });

  test("two keys with different policies, concurrently, each get only their own", async () => {
    const proxy = makeProxy();
    const [la, lb] = await Promise.all([proxy.listenTcp("a"), proxy.listenTcp("b")]);
    proxy.setPolicy("a", { allow: ["^sink\\.test$"], deny: [], logRequests: true });
    proxy.setPolicy("b", { allow: ["^other\\.test$"], deny: [], logRequests: true });
    const [aSink, aOther, bSink, bOther] = await Promise.all([
      send(tcpTarget(la), get("sink.test", web.port, "/from-a")),
      send(tcpTarget(la), get("other.test", web.port, "/from-a")),
      send(tcpTarget(lb), get("sink.test", web.port, "/from-b")),
      send(tcpTarget(lb), get("other.test", web.port, "/from-b")),
    ]);
    expect([aSink.status, aOther.status, bSink.status, bOther.status]).toEqual([200, 403, 403, 200]);
    expect(web.received.map((r) => r.split(" ")[1]).sort()).toEqual(["/from-a", "/from-b"]);
    const logsA = proxy.takeLogs("a");
    const logsB = proxy.takeLogs("b");
    const summary = (logs: typeof logsA) => logs.map((e) => `${e.action} ${e.host} ${e.path}`).sort();
    expect(summary(logsA)).toEqual(["ALLOW sink.test /from-a", "BLOCK other.test /from-a"]);
    expect(summary(logsB)).toEqual(["ALLOW other.test /from-b", "BLOCK sink.test /from-b"]);
    expect(proxy.takeLogs("a")).toEqual([]); // taken once
  });

  test("logs are collected only when asked, and a new policy starts with empty logs", async () => {
    const proxy = makeProxy();
    const target = tcpTarget(await proxy.listenTcp("a"));
    proxy.setPolicy("a", { allow: ["^sink\\.test$"], deny: [] });
    expect((await send(target, get("sink.test", web.port))).status).toBe(200);
    expect(proxy.takeLogs("a")).toEqual([]);
    proxy.setPolicy("a", { allow: ["^sink\\.test$"], deny: [], logRequests: true });
    await send(target, get("other.test", web.port));
    proxy.setPolicy("a", { allow: ["^sink\\.test$"], deny: [], logRequests: true }); // the next execution
    await send(target, get("sink.test", web.port, "/second"));
    expect(proxy.takeLogs("a").map((e) => e.path)).toEqual(["/second"]);
  });

  test("secret values never appear in logs: path, query, host or reason", async () => {
    const secret = "s3cr3t Tok/en";
    const { proxy, target } = await proxyWith({ allow: ["^sink\\.test$"], maskValues: [secret, "hunter2"] });
    const encoded = encodeURIComponent(secret);
    await send(target, get("sink.test", web.port, `/x/hunter2?k=${encoded}&q=${encoded.replace(/%20/g, "+")}`));
    await send(target, get("s3cr3t.sink.test", web.port, "/hunter2"));
    await send(target, `CONNECT hunter2.other.test:${echo.port} HTTP/1.1\r\n\r\n`);
    expect(web.received[0]).toContain(`k=${encoded}`); // the request itself is not altered
    const logs = proxy.takeLogs("a");
    expect(logs).toHaveLength(3);
    const text = JSON.stringify(logs);
    for (const form of [secret, encoded, "hunter2", "Tok", "en%20", "tok"]) expect(text).not.toContain(form);
    expect(logs[0]!.path).toBe("/x/***?k=***&q=***");
    expect(logs[2]).toMatchObject({ host: "***.other.test", reason: 'host "***.other.test" is not in the allow list' });
  });

  test("clearPolicy cuts an open tunnel, logs it, and refuses new connections", async () => {
    const { proxy, target } = await proxyWith({ allow: ["^sink\\.test$"] });
    const socket = await open(target);
    const all = readAll(socket);
    socket.write(`CONNECT sink.test:${echo.port} HTTP/1.1\r\n\r\n`);
    await readUntil(socket, (t) => t.includes("\r\n\r\n"));
    socket.write(HELLO_SINK);
    await readUntil(socket, (t) => t.endsWith(HELLO_SINK.toString("latin1")));
    proxy.clearPolicy("a");
    await all; // the proxy closed it
    expect(proxy.takeLogs("a")).toMatchObject([{ method: "CONNECT", action: "ALLOW", reason: "execution ended", bytesOut: HELLO_SINK.length }]);
    expect((await send(target, get("sink.test", web.port))).body).toBe("no execution is running\n");
  });

  test("connections beyond the per-key cap get 503; other keys are unaffected", async () => {
    const proxy = makeProxy({ maxConnectionsPerKey: 2 });
    const [la, lb] = await Promise.all([proxy.listenTcp("a"), proxy.listenTcp("b")]);
    proxy.setPolicy("a", { allow: [".*"], deny: [] });
    proxy.setPolicy("b", { allow: [".*"], deny: [] });
    const held = await Promise.all([open(tcpTarget(la)), open(tcpTarget(la))]);
    for (const socket of held) {
      const established = readUntil(socket, (t) => t.includes("\r\n\r\n"));
      socket.write(`CONNECT sink.test:${echo.port} HTTP/1.1\r\n\r\n`);
      await established; // an open tunnel: the proxy counts this connection
    }
    const third = await send(tcpTarget(la), get("sink.test", web.port));
    expect([third.status, third.body]).toEqual([503, "too many connections\n"]);
    expect((await send(tcpTarget(lb), get("sink.test", web.port))).status).toBe(200);
    held.forEach((s) => s.destroy());
  });
});

describe("unix-socket listeners", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "isol8-proxy-test-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("behave like TCP listeners, are mode 0600, and are removed on close", async () => {
    const proxy = makeProxy();
    const path = join(dir, "a.sock");
    const listener = await proxy.listenUnix("a", path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    proxy.setPolicy("a", { allow: ["^sink\\.test$"], deny: [], logRequests: true });
    expect((await send({ path }, get("sink.test", web.port))).status).toBe(200);
    expect((await send({ path }, get("other.test", web.port))).status).toBe(403);
    expect(proxy.takeLogs("a").map((e) => e.action)).toEqual(["ALLOW", "BLOCK"]);
    await listener.close();
    expect(() => statSync(path)).toThrow();
  });

  test("a socket file already at the path is replaced; any other file is refused", async () => {
    const path = join(dir, "taken.sock");
    await makeProxy().listenUnix("s", path); // left listening: a later proxy (after a crash) takes the path over
    const later = makeProxy();
    await later.listenUnix("s", path);
    later.setPolicy("s", { allow: ["^sink\\.test$"], deny: [] });
    expect((await send({ path }, get("sink.test", web.port))).status).toBe(200);
    const file = join(dir, "regular");
    writeFileSync(file, "x");
    await expect(later.listenUnix("r", file)).rejects.toThrow("a file that is not a socket is there");
  });
});

test("listenTcp refuses non-loopback addresses", async () => {
  const proxy = makeProxy();
  await expect(proxy.listenTcp("a", 0, "0.0.0.0")).rejects.toThrow("loopback addresses only");
});

test("closing a listener ends its open connections and logs them", async () => {
  const proxy = makeProxy();
  const listener = await proxy.listenTcp("a");
  proxy.setPolicy("a", { allow: ["^sink\\.test$"], deny: [], logRequests: true });
  const socket = await open(tcpTarget(listener));
  const all = readAll(socket);
  socket.write(`CONNECT sink.test:${echo.port} HTTP/1.1\r\n\r\n`);
  await readUntil(socket, (t) => t.includes("\r\n\r\n"));
  await listener.close();
  await all;
  expect(proxy.takeLogs("a")).toMatchObject([{ method: "CONNECT", reason: "listener closed" }]);
});

test("invalid options fail with errors naming the value", () => {
  expect(() => createFilteringProxy({ allowedPorts: [0] })).toThrow('Cannot allow port "0"');
  expect(() => createFilteringProxy({ allowedCidrs: ["10.0.0.0/40"] })).toThrow('Cannot use address range "10.0.0.0/40"');
  expect(() => createFilteringProxy({ hosts: { "a b": "127.0.0.1" } })).toThrow('Cannot use static host "a b"');
  expect(() => createFilteringProxy({ hosts: { "sink.test": "localhost" } })).toThrow('"localhost" is not an IP address');
  expect(() => createFilteringProxy().setPolicy("a", { allow: ["("], deny: [] })).toThrow('Cannot use allow pattern "("');
});

describe("connection slots", () => {
  test("clients that close without sending a request free their slot at once", async () => {
    const { FilteringProxy } = await import("./filtering-proxy");
    const { connect } = await import("node:net");
    // A head timeout far beyond the test timeout: only closing at once can free the slots.
    const proxy = new FilteringProxy({ maxConnectionsPerKey: 4, allowedPorts: [80], limits: { headerTimeoutMs: 600_000 } });
    const listener = await proxy.listenTcp("k");
    proxy.setPolicy("k", { allow: [], deny: [] });
    const { port } = listener.address as { port: number };
    const openAndHalfClose = () =>
      new Promise<void>((resolve) => {
        const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true }, () => socket.end());
        socket.on("close", () => resolve());
        socket.resume();
      });
    for (let i = 0; i < 8; i++) await openAndHalfClose();
    const answer = await new Promise<string>((resolve) => {
      const socket = connect({ port, host: "127.0.0.1" }, () => socket.write("GET http://x.test/ HTTP/1.1\r\nHost: x.test\r\n\r\n"));
      let text = "";
      socket.on("data", (c) => (text += c));
      socket.on("close", () => resolve(text));
    });
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 403 Forbidden");
    await proxy.close();
  });
});
