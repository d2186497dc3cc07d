/**
 * bench/server: warm `POST /execute` (python hello world) of the compiled binary's server
 * over loopback, against the library's warm execute() measured in the same run; plus the
 * server's idle RSS.
 *
 *   bun bench/server.ts [--n 60]   (build first: npm run build)
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerIsol8 } from "../src/engine/engine";
import { arg, ms, summary } from "./stats";
import { listeningUrl } from "../test/e2e/server-process";

const N = Number(arg("n", "60"));
const KEY = "bench-key";
const BINARY = join(import.meta.dir, "..", "dist", "isol8");

const child = spawn(BINARY, ["serve", "--port", "0", "--key", KEY, "--hostname", "127.0.0.1"], {
  env: { ...process.env, ISOL8_SCOPE: "isol8-bench-server" },
  stdio: ["ignore", "pipe", "ignore"], // its access log (a line per request) would bury the figures
});
const url = await listeningUrl(child);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) * 1024;

async function post(code: string): Promise<number> {
  const t = performance.now();
  const response = await fetch(`${url}/execute`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ request: { runtime: "python", code } }),
  });
  const body = (await response.json()) as { stdout?: string };
  if (response.status !== 200 || body.stdout !== "hello\n") throw new Error(`unexpected answer ${response.status} ${JSON.stringify(body)}`);
  return performance.now() - t;
}

try {
  for (let i = 0; i < 5; i++) await post("print('hello')");
  await Bun.sleep(1000);
  const idle = rss();
  const http: number[] = [];
  for (let i = 0; i < N; i++) http.push(await post("print('hello')"));

  const engine = new DockerIsol8({ scope: "isol8-bench-server", config: { poolSize: { clean: 1, dirty: 1 } } });
  await engine.start({ prewarm: ["python"] });
  const lib: number[] = [];
  for (let i = 0; i < N + 5; i++) {
    const t = performance.now();
    const result = await engine.execute({ runtime: "python", code: "print('hello')" });
    if (result.stdout !== "hello\n") throw new Error("library run failed");
    if (i >= 5) lib.push(performance.now() - t);
  }
  await engine.stop();

  const a = summary(http);
  const b = summary(lib);
  console.log(`bench/server: ${N} sequential warm executions each (python print)`);
  console.log(`HTTP POST /execute: p50 ${ms(a.p50)}, p95 ${ms(a.p95)}`);
  console.log(`library execute():  p50 ${ms(b.p50)}, p95 ${ms(b.p95)}`);
  console.log(`HTTP overhead at p50: ${ms(a.p50 - b.p50)} (ratio ${(a.p50 / b.p50).toFixed(2)})`);
  console.log(`server idle RSS: ${(idle / 1024 / 1024).toFixed(1)} MB`);
} finally {
  child.kill("SIGTERM");
  await new Promise((resolve) => child.on("exit", resolve));
}
