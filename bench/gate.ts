/**
 * bench/gate: what the connection gate costs. One server process serves the same app (one
 * engine, one warm pool) twice: through the gate, as `isol8 serve` does, and on a bare Bun.serve
 * (the peer from requestIP, as before the gate). The client, another process, measures both
 * alternately in the same run: warm `POST /execute` (python print), `GET /health` on a kept-alive
 * connection and on a new connection each time, and the download of a 60 MiB output file (an
 * 80 MiB JSON body, base64) after its first byte.
 *
 *   bun bench/gate.ts [--n 60] [--health 2000] [--downloads 5]
 */
import { spawn } from "node:child_process";
import http from "node:http";
import { defaultConfig } from "../src/config/schema";
import { createServerCore } from "../src/server/server-core";
import { serveThroughGate } from "../src/server/serve";
import { arg, ms, summary } from "./stats";

const KEY = "bench-key";
const SCOPE = "isol8-bench-gate";

if (process.argv.includes("--serve")) {
  // The server process: the app behind the gate, and the same app on a bare Bun.serve.
  const config = defaultConfig();
  const core = createServerCore({ config, apiKeys: [KEY], store: { path: ":memory:" }, log: () => {}, scope: SCOPE });
  const gated = serveThroughGate(core.app, config, { hostname: "127.0.0.1", port: 0 }, () => {})!;
  const bare = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, server) =>
      core.app.fetch(request, {
        peer: server.requestIP(request),
        setIdleTimeout: (seconds) => {
          try {
            server.timeout(request, seconds);
          } catch {}
        },
        inFlight: server.pendingRequests,
      }),
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: Math.ceil(config.server.idleTimeoutMs / 1000),
  });
  console.log(JSON.stringify({ gated: `http://127.0.0.1:${gated.port}`, bare: `http://127.0.0.1:${bare.port}` }));
  process.on("SIGTERM", () => {
    void core.shutdown("bench done", async () => {
      await gated.stop();
      await bare.stop(true);
    }).then(() => process.exit(0));
  });
} else {
  await measure();
}

async function measure() {
  const N = Number(arg("n", "60"));
  const HEALTH = Number(arg("health", "2000"));
  const DOWNLOADS = Number(arg("downloads", "5"));
  const child = spawn(process.execPath, [import.meta.path, "--serve"], { stdio: ["ignore", "pipe", "inherit"], env: process.env });
  const urls = await new Promise<{ gated: string; bare: string }>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line));
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  const both = ["gated", "bare"] as const;
  const results: Record<string, Record<(typeof both)[number], number[]>> = {};
  const record = (name: string, which: (typeof both)[number], value: number) => ((results[name] ??= { gated: [], bare: [] })[which].push(value));

  const execute = async (url: string, code: string, outputPaths?: string[]) => {
    const started = performance.now();
    const response = await fetch(`${url}/execute`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ request: { runtime: "python", code, ...(outputPaths ? { outputPaths } : {}) } }),
    });
    const firstByte = performance.now();
    const body = await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`unexpected answer ${response.status}: ${new TextDecoder().decode(body).slice(0, 300)}`);
    return { ms: performance.now() - started, afterFirstByteMs: performance.now() - firstByte, bytes: body.byteLength };
  };
  /** GET /health on a new connection (Connection: close), as a client without keep-alive. */
  const healthOnce = (url: string) =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const { port } = new URL(url);
      http
        .get({ host: "127.0.0.1", port: Number(port), path: "/health", agent: false, headers: { connection: "close" } }, (response) => {
          response.resume();
          response.on("end", () => resolve(performance.now() - started));
        })
        .on("error", reject);
    });

  try {
    for (const which of both) for (let i = 0; i < 5; i++) await execute(urls[which], "print('hello')");
    // Alternate which goes first: the run after another finds the pool's container being wiped.
    const ordered = (i: number) => (i % 2 ? [...both].reverse() : both);
    for (let i = 0; i < N; i++) for (const which of ordered(i)) record("POST /execute (warm, python print)", which, (await execute(urls[which], "print('hello')")).ms);
    for (let round = 0; round < 4; round++) {
      for (const which of ordered(round)) {
        for (let i = 0; i < HEALTH / 4; i++) {
          const started = performance.now();
          await (await fetch(`${urls[which]}/health`)).arrayBuffer();
          record("GET /health (kept-alive connection)", which, performance.now() - started);
        }
        for (let i = 0; i < HEALTH / 20; i++) record("GET /health (new connection each)", which, await healthOnce(urls[which]));
      }
    }
    const big = "open('/sandbox/big.bin', 'wb').write(bytes(60 * 1024 * 1024))";
    const throughput: Record<string, number[]> = { gated: [], bare: [] };
    for (const which of both) await execute(urls[which], big, ["big.bin"]);
    for (let i = 0; i < DOWNLOADS; i++) {
      for (const which of ordered(i)) {
        const run = await execute(urls[which], big, ["big.bin"]);
        throughput[which]!.push(run.bytes / 1024 / 1024 / (run.afterFirstByteMs / 1000));
        record("POST /execute with a 60 MiB output file (whole request)", which, run.ms);
      }
    }

    console.log(`bench/gate: the same server process, through the connection gate vs a bare Bun.serve, measured alternately`);
    for (const [name, { gated, bare }] of Object.entries(results)) {
      const g = summary(gated);
      const b = summary(bare);
      const fmt = (v: number) => (v < 1 ? `${(v * 1000).toFixed(0)} µs` : ms(v));
      console.log(`${name} (n=${g.n} each)`);
      console.log(`  gated: p50 ${fmt(g.p50)}, p95 ${fmt(g.p95)}   bare: p50 ${fmt(b.p50)}, p95 ${fmt(b.p95)}`);
      console.log(`  gate cost at p50: ${fmt(g.p50 - b.p50)} (ratio ${(g.p50 / b.p50).toFixed(3)}); at p95: ratio ${(g.p95 / b.p95).toFixed(3)}`);
    }
    const tg = summary(throughput.gated!).p50;
    const tb = summary(throughput.bare!).p50;
    console.log(`60 MiB output file, body after its first byte (80 MiB of JSON): gated ${tg.toFixed(0)} MiB/s, bare ${tb.toFixed(0)} MiB/s (median of ${DOWNLOADS}, ratio ${(tg / tb).toFixed(3)})`);
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.on("exit", resolve));
  }
}
