// Key guessing is throttled (E4): thousands of wrong keys from one address quickly get 429 with
// Retry-After, their keys unchecked; a client already using a valid key, and clients at other
// addresses, keep working throughout; the log names the address, never a presented key. Every
// connection passes the connection gate, whose own end of the relay is 127.0.0.1: the throttle
// and the access log see the client's address all the same.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import http from "node:http";
import { serverProcesses, type StartedServer } from "./server-process";

const KEY = "throttle-e2e-valid-key";
const LIMIT = 20;
const servers = serverProcesses("isol8-throttle-");
let server: StartedServer;

beforeAll(async () => {
  // 50 attack loops from one address, each reconnecting as soon as it has its answer: a closing
  // connection is still counted for a moment, so the default per-address connection cap (64)
  // would refuse a few reconnections (503) before the throttle sees them. This test is about the
  // throttle; the caps have their own (server-connection-caps.test.ts).
  server = await servers.start({ config: { server: { authFailureLimit: LIMIT, authFailureWindowMs: 60_000, maxConnectionsPerAddress: 1000 } }, keys: [KEY] });
}, 60_000);
afterAll(() => servers.cleanup());

interface Answer {
  status: number;
  retryAfter: string | undefined;
  ms: number;
}

/** GET /sessions with a key, over the given agent (false: a new connection), from a local address. */
function getSessions(key: string, options: { agent: http.Agent | false; localAddress?: string }): Promise<Answer> {
  const { hostname, port } = new URL(server.url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: hostname, port: Number(port), path: "/sessions", headers: { authorization: `Bearer ${key}` }, ...options },
      (response) => {
        response.resume();
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, retryAfter: response.headers["retry-after"] as string | undefined, ms: performance.now() - started }),
        );
      },
    );
    request.on("error", reject);
    request.end();
  });
}

describe("isol8 serve: failed authentications are throttled per address", () => {
  test("3,000 wrong keys quickly: 429s with Retry-After after the limit; a valid key keeps working throughout", async () => {
    // The valid client: one kept-alive connection, in use before the attack.
    const keptAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await getSessions(KEY, { agent: keptAlive })).status).toBe(200);
    const baseline: number[] = [];
    for (let i = 0; i < 20; i++) {
      baseline.push((await getSessions(KEY, { agent: keptAlive })).ms, (await getSessions(KEY, { agent: false, localAddress: "127.0.0.2" })).ms);
    }

    let attacking = true;
    const validAnswers: Answer[] = [];
    const valid = (async () => {
      while (attacking) {
        validAnswers.push(await getSessions(KEY, { agent: keptAlive }));
        validAnswers.push(await getSessions(KEY, { agent: false, localAddress: "127.0.0.2" }));
        await Bun.sleep(20);
      }
    })();

    const started = performance.now();
    const attack: Answer[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < 3000) {
          const i = next++;
          attack.push(await getSessions(`guess-${i}-not-the-key`, { agent: false }));
        }
      }),
    );
    const attackMs = performance.now() - started;
    attacking = false;
    await valid;
    keptAlive.destroy();

    const count = (status: number) => attack.filter((a) => a.status === status).length;
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const during = median(validAnswers.map((a) => a.ms));
    console.log(
      `3000 wrong keys in ${attackMs.toFixed(0)} ms: ${count(403)} × 403, ${count(429)} × 429; valid requests: ` +
        `median ${median(baseline).toFixed(1)} ms before, ${during.toFixed(1)} ms during the attack (${validAnswers.length} requests, ` +
        `ratio ${(during / median(baseline)).toFixed(1)}; both cores busy answering the attack)`,
    );
    expect(count(403)).toBe(LIMIT);
    expect(count(429)).toBe(3000 - LIMIT);
    const retryAfter = attack.filter((a) => a.status === 429).map((a) => Number(a.retryAfter));
    expect(retryAfter.every((s) => s >= 1 && s <= 60)).toBe(true);
    expect(validAnswers.length).toBeGreaterThan(2);
    expect(validAnswers.every((a) => a.status === 200)).toBe(true);

    // Documented: while throttled, a new connection from the attacking address is not checked, even with the right key.
    const fresh = await getSessions(KEY, { agent: false });
    expect(fresh.status).toBe(429);
    expect(Number(fresh.retryAfter)).toBeGreaterThan(0);

    const log = server.stderr();
    expect(log).toContain(`auth: ${LIMIT} wrong API keys from 127.0.0.1 within 60 s`);
    // The connection gate relays every connection from 127.0.0.1: the access log still names each
    // request's own client (127.0.0.2 for the valid client's requests from there, all 200).
    const fromOther = log.split("\n").filter((line) => / request .* client=127\.0\.0\.2$/.test(line));
    expect(fromOther.length).toBe(20 + validAnswers.length / 2);
    expect(fromOther.every((line) => line.includes(" status=200 "))).toBe(true);
    expect(log).not.toContain("guess-");
    expect(log).not.toContain(KEY);
    expect(log.split("\n").filter((line) => line.includes("auth:")).length).toBe(LIMIT);
  }, 120_000);
});
