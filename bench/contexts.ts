/**
 * bench/contexts: a python cell `x + 1` in a warm context, through the library and over HTTP
 * (`isol8 serve` of the compiled binary, collected `POST .../run`), against a plain warm
 * execution of the same code in the same run (the ephemeral engine's warm pool). Medians and
 * p95; nothing is asserted.
 *
 *   bun bench/contexts.ts [--n 200]   (build first for the HTTP row: npm run build)
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DockerIsol8 } from "../src/engine/engine";
import { RemoteIsol8 } from "../src/client/remote";
import { arg, ms, summary } from "./stats";
import { listeningUrl } from "../test/e2e/server-process";

const N = Number(arg("n", "200"));
const SCOPE = "isol8-bench-contexts";
const KEY = "bench-contexts-key";
const BINARY = join(import.meta.dir, "..", "dist", "isol8");

async function timed(n: number, once: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < 10; i++) await once(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await once();
    times.push(performance.now() - t);
  }
  return times;
}

const rows: [string, number[]][] = [];

// library: a warm python context
const session = new DockerIsol8({ mode: "persistent", scope: SCOPE });
await session.start();
const ctx = await session.createContext({ runtime: "python" });
await ctx.run("x = 41");
rows.push([
  "context cell (library)",
  await timed(N, async () => {
    const r = await ctx.run("x + 1");
    if (r.results[0]?.["text/plain"] !== "42") throw new Error(`unexpected result ${JSON.stringify(r)}`);
  }),
]);

// baseline: a plain warm execution of the same code
const pool = new DockerIsol8({ scope: SCOPE, config: { poolSize: { clean: 2, dirty: 2 } } });
await pool.start({ prewarm: ["python"] });
rows.push([
  "warm execution (library)",
  await timed(Math.min(N, 60), async () => {
    const r = await pool.execute({ runtime: "python", code: "x = 41\nprint(x + 1)" });
    if (r.stdout !== "42\n") throw new Error(`unexpected output ${JSON.stringify(r)}`);
  }),
]);
await pool.stop();

// HTTP: the same cell through isol8 serve
if (existsSync(BINARY)) {
  const child = spawn(BINARY, ["serve", "--port", "0", "--key", KEY, "--hostname", "127.0.0.1"], {
    env: { ...process.env, ISOL8_SCOPE: SCOPE },
    // Its access log (a line per request) would bury the figures.
    stdio: ["ignore", "pipe", "ignore"],
  });
  try {
    const url = await listeningUrl(child);
    const remote = new RemoteIsol8({ host: url, apiKey: KEY, sessionId: "bench" });
    const remoteCtx = await remote.createContext({ runtime: "python" });
    await remoteCtx.run("x = 41");
    rows.push([
      "context cell (HTTP)",
      await timed(N, async () => {
        const r = await remoteCtx.run("x + 1");
        if (r.results[0]?.["text/plain"] !== "42") throw new Error(`unexpected result ${JSON.stringify(r)}`);
      }),
    ]);
    await remote.stop();
  } finally {
    child.kill("SIGTERM");
  }
} else {
  console.log("(no dist/isol8: run npm run build for the HTTP row)");
}
await session.stop();

console.log(`bench/contexts: python \`x + 1\`, ${N} sequential cells after 10 warm-ups (ratio = row p50 / warm execution p50)`);
const base = summary(rows.find(([name]) => name.startsWith("warm execution"))![1]).p50;
const library = summary(rows[0]![1]).p50;
for (const [name, times] of rows) {
  const s = summary(times);
  const extra = name === "context cell (HTTP)" ? `   (+${ms(s.p50 - library)} over the library)` : "";
  console.log(`${name.padEnd(26)} p50 ${ms(s.p50).padEnd(9)} p95 ${ms(s.p95).padEnd(9)} ratio ${(s.p50 / base).toFixed(3)}${extra}`);
}
