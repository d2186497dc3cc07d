// Connection abuse against `isol8 serve` (E9): refused requests never wait for a declared body,
// idle and stalled connections are closed, requests in flight are capped; executions longer
// than the idle timeout still complete (collected and streamed).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { parseStreamEvents } from "../../src/protocol/sse";
import { serverProcesses, type StartedServer } from "./server-process";

const KEY = "e2e-connections-key";
const IDLE_MS = 2000;
/** Bun's socket timer moves in 4-second steps: a connection may be closed up to two steps late. */
const TIMER_SLACK_MS = 8000;
/** Bun closes a new connection whose first request's headers are not complete within 10 s (whatever the idle timeout). */
const HEADER_DEADLINE_MS = 10_000;
const servers = serverProcesses("isol8-conn-");
let server: StartedServer;

beforeAll(async () => {
  server = await servers.start({ config: { server: { idleTimeoutMs: IDLE_MS } }, keys: [KEY] });
}, 60_000);
afterAll(() => servers.cleanup());

interface RawExchange {
  /** The bytes the server sent. */
  received: string;
  /** Milliseconds from the write to the server ending the connection; null if it did not within the wait. */
  closedAfterMs: number | null;
}

/** Opens a TCP connection, writes `head` and then stalls (never sends more), until the server ends it or `waitMs` passes. */
function stallAfter(url: string, head: string, waitMs: number, onOpen?: (socket: Socket) => void): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let received = "";
    let start = 0;
    const finish = (closedAfterMs: number | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closedAfterMs });
    };
    const timer = setTimeout(() => finish(null), waitMs);
    socket.on("connect", () => {
      start = Date.now();
      socket.write(head);
      onOpen?.(socket);
    });
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    socket.on("end", () => finish(Date.now() - start));
    socket.on("close", () => finish(Date.now() - start));
    socket.on("error", () => finish(Date.now() - start));
  });
}

const declaringHugeBody = (path: string, authorization?: string) =>
  `POST ${path} HTTP/1.1\r\nHost: isol8.test\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n${authorization ? `Authorization: ${authorization}\r\n` : ""}\r\n`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe("isol8 serve: connection abuse", () => {
  test("50 unauthenticated connections declaring a 100 MB body: each gets 401 and is closed within the idle timeout; /health stays fast", async () => {
    const latencies: number[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const started = performance.now();
        const response = await fetch(`${server.url}/health`);
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        latencies.push(performance.now() - started);
        await Bun.sleep(10);
      }
    })();
    await Bun.sleep(100);
    const exchanges = await Promise.all(Array.from({ length: 50 }, () => stallAfter(server.url, declaringHugeBody("/execute"), IDLE_MS + TIMER_SLACK_MS)));
    await Bun.sleep(200);
    probing = false;
    await probe;
    const closes = exchanges.map((e) => e.closedAfterMs ?? Number.POSITIVE_INFINITY);
    console.log(
      `50 stalled unauthenticated connections: closed after median ${median(closes)} ms, max ${Math.max(...closes)} ms; ` +
        `/health meanwhile: ${latencies.length} probes, median ${median(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    for (const exchange of exchanges) {
      expect(exchange.received).toStartWith("HTTP/1.1 401");
      expect(exchange.received.toLowerCase()).toContain("connection: close");
      expect(exchange.closedAfterMs).not.toBeNull();
      expect(exchange.closedAfterMs!).toBeLessThan(IDLE_MS);
    }
    expect(latencies.length).toBeGreaterThan(3);
    expect(Math.max(...latencies)).toBeLessThan(500);
  }, 60_000);

  test("a wrong key or a body declared over maxBodySize: answered (403, 413) and closed without the body being sent", async () => {
    const [wrong, tooLarge] = await Promise.all([
      stallAfter(server.url, declaringHugeBody("/execute", "Bearer wrong-key"), IDLE_MS + TIMER_SLACK_MS),
      stallAfter(server.url, declaringHugeBody("/execute", `Bearer ${KEY}`), IDLE_MS + TIMER_SLACK_MS),
    ]);
    expect(wrong.received).toStartWith("HTTP/1.1 403");
    expect(tooLarge.received).toStartWith("HTTP/1.1 413");
    for (const exchange of [wrong, tooLarge]) expect(exchange.closedAfterMs!).toBeLessThan(IDLE_MS);
  }, 30_000);

  test("a connection stalled or trickling in its first headers is closed by the header deadline; an idle keep-alive one after the idle timeout", async () => {
    const trickle = (socket: Socket) => {
      const timer = setInterval(() => socket.writable && socket.write("X-Slow: 1\r\n"), 1000);
      socket.on("close", () => clearInterval(timer));
    };
    const [stalled, trickling, idle] = await Promise.all([
      stallAfter(server.url, "GET /health HTTP/1.1\r\nHost: isol8.test\r\n", HEADER_DEADLINE_MS + TIMER_SLACK_MS),
      stallAfter(server.url, "GET /health HTTP/1.1\r\nHost: isol8.test\r\n", HEADER_DEADLINE_MS + TIMER_SLACK_MS, trickle),
      stallAfter(server.url, "GET /health HTTP/1.1\r\nHost: isol8.test\r\n\r\n", IDLE_MS + TIMER_SLACK_MS),
    ]);
    console.log(
      `stalled headers closed after ${stalled.closedAfterMs} ms, trickled headers after ${trickling.closedAfterMs} ms, ` +
        `idle keep-alive (idle timeout ${IDLE_MS} ms) after ${idle.closedAfterMs} ms`,
    );
    for (const exchange of [stalled, trickling]) {
      expect(exchange.received).toBe("");
      expect(exchange.closedAfterMs).not.toBeNull();
    }
    expect(idle.received).toStartWith("HTTP/1.1 200");
    expect(idle.closedAfterMs).not.toBeNull();
    expect(idle.closedAfterMs!).toBeGreaterThanOrEqual(IDLE_MS - 100);
  }, 40_000);

  test("still works: executions silent for longer than the idle timeout complete, collected and streamed", async () => {
    const silent = "import time; time.sleep(7); print('after the silence')";
    const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
    const collected = fetch(`${server.url}/execute`, { method: "POST", headers, body: JSON.stringify({ request: { code: silent } }) });
    const streamed = fetch(`${server.url}/execute/stream`, { method: "POST", headers, body: JSON.stringify({ request: { code: silent } }) });
    const result = (await (await collected).json()) as { stdout: string };
    expect(result.stdout).toBe("after the silence\n");
    const events = [];
    for await (const event of parseStreamEvents((await streamed).body!)) events.push(event);
    // Output may arrive in any number of chunks; what counts is all of it, then the exit.
    expect(events.at(-1)!.type).toBe("exit");
    expect(events.slice(0, -1).every((e) => e.type === "stdout")).toBe(true);
    expect(events.slice(0, -1).map((e) => e.data).join("")).toBe("after the silence\n");
  }, 60_000);
});

describe("isol8 serve: requests in flight are capped", () => {
  test("over server.maxRequestsInFlight: 503 with Retry-After, closed; the requests in flight finish", async () => {
    const capped = await servers.start({ config: { server: { maxRequestsInFlight: 1 } }, keys: [KEY] });
    try {
      const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
      const slow = fetch(`${capped.url}/execute`, { method: "POST", headers, body: JSON.stringify({ request: { code: "import time; time.sleep(2); print('done')" } }) });
      await Bun.sleep(700);
      const refused = await fetch(`${capped.url}/sessions`, { headers });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(refused.headers.get("connection")).toBe("close");
      expect(((await (await slow).json()) as { stdout: string }).stdout).toBe("done\n");
      expect((await fetch(`${capped.url}/sessions`, { headers })).status).toBe(200);
    } finally {
      expect(await capped.stop()).toBe(0);
    }
  }, 60_000);
});
