// `isol8 serve` returning a large output file (docs/SECURITY.md F16): eight spellings of one
// 60 MiB file give one file, and the server's peak resident memory (VmHWM, reset just before
// the request) grows by less than twice the file's size, for /execute and /execute/stream.
// The file stays bytes in the engine and leaves the server as base64 written piece by piece.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseStreamEvents } from "../../src/protocol/sse";
import type { ExecutionResult, StreamEvent } from "../../src/protocol/execution";
import { BINARY, TEST_SCOPE } from "../helpers";
import { listeningUrl } from "./server-process";

const KEY = "e2e-output-files-key";
const MIB = 1024 * 1024;
const FILE_BYTES = 60 * MIB;
const SPELLINGS = ["big.bin", "./big.bin", "/sandbox//big.bin", "/sandbox/big.bin", "./././big.bin", "/sandbox/./big.bin", ".//big.bin", "big.bin/"];

let dir: string;
let server: ChildProcess | undefined;
let url: string;

beforeAll(() => {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);
  dir = mkdtempSync(join(tmpdir(), "isol8-e2e-outfiles-"));
});
afterAll(async () => {
  await stopServer();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh server per measurement (a heap grown by an earlier one would hide the growth), warmed up. */
async function startServer(): Promise<void> {
  const child = spawn(BINARY, ["serve", "--port", "0", "--key", KEY, "--hostname", "127.0.0.1"], {
    cwd: dir,
    env: { ...process.env, HOME: dir, ISOL8_SCOPE: TEST_SCOPE, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server = child;
  let err = "";
  child.stderr!.on("data", (chunk) => (err += chunk));
  url = await listeningUrl(child, () => err);
  // Warm up: the pool's container, the code paths, a small file through both routes.
  for (const path of ["/execute", "/execute/stream"]) await (await post(path, SPELLINGS, 1)).text();
}

async function stopServer(): Promise<void> {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

function post(path: string, outputPaths: string[], mib: number): Promise<Response> {
  const code = [
    "import hashlib, os",
    `data = os.urandom(${mib} * 1024 * 1024)`,
    "open('/sandbox/big.bin', 'wb').write(data)",
    "print(hashlib.sha256(data).hexdigest())",
  ].join("\n");
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ request: { runtime: "python", code, outputPaths } }),
  });
}

/** The server's resident memory now and its peak since the last reset, in bytes. */
function memory(): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${server!.pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)![1]) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** Forgets the peak: VmHWM starts again from the current resident size. */
function resetPeak(): void {
  writeFileSync(`/proc/${server!.pid}/clear_refs`, "5");
}

/** The exit summary of an SSE body, and the program's stdout. */
async function exitOf(response: Response): Promise<{ summary: ExecutionResult; stdout: string }> {
  let stdout = "";
  let summary: ExecutionResult | undefined;
  for await (const event of parseStreamEvents(response.body!) as AsyncGenerator<StreamEvent>) {
    if (event.type === "stdout") stdout += event.data;
    if (event.type === "exit") summary = event.data as ExecutionResult;
  }
  return { summary: summary!, stdout };
}

describe("a 60 MiB output file asked for under eight spellings", () => {
  test.each(["/execute", "/execute/stream"])(
    "%s: one file, byte-exact, and the server's peak memory grows by less than twice its size",
    async (path) => {
      await startServer();
      resetPeak();
      const before = memory();
      expect(before.peak).toBeLessThanOrEqual(before.rss + MIB);
      const response = await post(path, SPELLINGS, FILE_BYTES / MIB);
      expect(response.status).toBe(200);
      const { summary, stdout } = path === "/execute" ? await response.json().then((r) => ({ summary: r as ExecutionResult, stdout: (r as ExecutionResult).stdout })) : await exitOf(response);
      const growth = memory().peak - before.rss;
      expect(Object.keys(summary.files ?? {})).toEqual(["big.bin"]);
      expect(summary.missingFiles).toEqual([]);
      const file = Buffer.from(summary.files!["big.bin"]!, "base64");
      expect(file.length).toBe(FILE_BYTES);
      expect(createHash("sha256").update(file).digest("hex")).toBe(stdout.trim());
      console.log(`${path}: server peak grew by ${(growth / MIB).toFixed(1)} MiB for a ${FILE_BYTES / MIB} MiB file`);
      expect(growth).toBeLessThan(2 * FILE_BYTES);
      await stopServer();
    },
    120_000,
  );
});
