// Starting the compiled `isol8 serve` for a test: a temporary working directory with the given
// config, a key, loopback, and the URL it prints. Not a test file itself.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, TEST_SCOPE } from "../helpers";

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number>;
}

export function startServerProcess(options: { key: string; config?: object; env?: Record<string, string> }): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), "isol8-srv-"));
  writeFileSync(join(dir, "isol8.config.json"), JSON.stringify(options.config ?? {}));
  const child = spawn(BINARY, ["serve", "--port", "0", "--key", options.key, "--hostname", "127.0.0.1"], {
    cwd: dir,
    env: { ...process.env, HOME: dir, ISOL8_SCOPE: TEST_SCOPE, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (c) => (err += c));
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const url = /isol8 (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve({ child, url, stderr: () => err, exited });
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}
