// `isol8 serve` of the compiled binary as a child process, for the e2e server tests.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, TEST_SCOPE } from "../helpers";

export interface StartedServer {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

export interface ServerOptions {
  config?: object;
  /** "" leaves --port out. */
  port?: string;
  keys?: string[];
  env?: Record<string, string>;
}

/**
 * The address `isol8 serve` prints once it listens (the "isol8 <url>" line: http://... or, with
 * --local, unix:...). Rejects when the process exits first, with what it said on stderr.
 */
export function listeningUrl(child: ChildProcess, stderr: () => string = () => ""): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const url = /isol8 ((?:http:\/\/|unix:)\S+)/.exec(out)?.[1];
      if (url) resolve(url);
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${stderr()}`)));
  });
}

/** Starts servers in a scratch directory; `cleanup()` kills what is left and removes it. */
export function serverProcesses(prefix: string) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const children: ChildProcess[] = [];

  function start(options: ServerOptions = {}): Promise<StartedServer> {
    const dir = mkdtempSync(join(work, "srv-"));
    writeFileSync(join(dir, "isol8.config.json"), JSON.stringify(options.config ?? {}));
    const port = options.port ?? "0";
    const portArgs = port === "" ? [] : ["--port", port];
    const keyArgs = (options.keys ?? []).flatMap((key) => ["--key", key]);
    const child = spawn(BINARY, ["serve", ...portArgs, ...keyArgs, "--hostname", "127.0.0.1"], {
      cwd: dir,
      // The operator's config, named explicitly (a trusted file, not one merely found in the working directory).
      env: { ...process.env, HOME: dir, ISOL8_SCOPE: TEST_SCOPE, NO_COLOR: "1", ISOL8_CONFIG: join(dir, "isol8.config.json"), ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let err = "";
    child.stderr!.on("data", (c) => (err += c));
    const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
    return listeningUrl(child, () => err).then((url) => ({
      child,
      url,
      stderr: () => err,
      exited,
      stop: () => {
        child.kill("SIGTERM");
        return exited;
      },
    }));
  }

  return {
    start,
    cleanup() {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Peak and current resident memory of a process, in bytes (Linux /proc). */
export function memoryOf(pid: number): { peak: number; resident: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) * 1024;
  return { peak: field("VmHWM"), resident: field("VmRSS") };
}
