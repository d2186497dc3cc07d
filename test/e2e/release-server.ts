// A release built by build.ts into a temp directory, served over loopback HTTP by the
// test process: what the launcher and the self-updater download from in e2e tests.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { ROOT } from "../helpers";

/** A signing key made by `bun build.ts --new-signing-key` (the maintainers' command). */
export interface TestSigningKey {
  path: string;
  /** The public key the command printed. */
  publicKey: string;
}

/** Creates a signing key file in `dir` the way a maintainer does. */
export function newSigningKey(dir: string, name = "release-key.pem"): TestSigningKey {
  const path = join(dir, name);
  const run = spawnSync(process.execPath, ["build.ts", "--new-signing-key", path], { cwd: ROOT, encoding: "utf8" });
  const publicKey = /its public key: (\S+)/.exec(run.stdout)?.[1];
  if (run.status !== 0 || !publicKey) throw new Error(`--new-signing-key failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  return { path, publicKey };
}

/**
 * `bun build.ts --release <root> --skip-library --signing-key <key>` for `version` (host
 * target); returns the release root (a new temp directory unless `root` is given).
 */
export function buildRelease(version: string, key: TestSigningKey, root = mkdtempSync(join(tmpdir(), "isol8-release-"))): string {
  const build = spawnSync(process.execPath, ["build.ts", "--release", root, "--skip-library", "--signing-key", key.path], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ISOL8_BUILD_VERSION: version },
    timeout: 180_000,
  });
  if (build.status !== 0) throw new Error(`release build failed (exit ${build.status}):\n${build.stdout}\n${build.stderr}`);
  return root;
}

export interface ReleaseServer {
  /** The base URL (ISOL8_RELEASE_URL). */
  url: string;
  /** Paths requested so far. */
  requests: string[];
  /** Answer `path` with `handler` instead of the file (tampering, slow bodies); `undefined` restores the file. */
  override(path: string, handler: ((request: Request) => Response) | undefined): void;
  stop(): Promise<void>;
}

export function serveRelease(root: string): ReleaseServer {
  const requests: string[] = [];
  const overrides = new Map<string, (request: Request) => Response>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      requests.push(path);
      const handler = overrides.get(path);
      if (handler) return handler(request);
      const file = join(root, normalize(decodeURIComponent(path)));
      if (!file.startsWith(`${root}/`) || !existsSync(file) || !statSync(file).isFile()) return new Response("not found", { status: 404 });
      return new Response(Bun.file(file));
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    override: (path, handler) => (handler ? overrides.set(path, handler) : overrides.delete(path)),
    stop: () => server.stop(true),
  };
}

/** Runs a command without blocking the test process (the release server lives in it). */
export async function runAsync(
  cmd: string[],
  env: Record<string, string | undefined>,
  options: { onStart?: (proc: Bun.Subprocess) => void | Promise<void>; timeoutMs?: number } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | number | null; stdout: string; stderr: string }> {
  const proc = Bun.spawn(cmd, { env: env as Record<string, string>, stdin: "ignore", stdout: "pipe", stderr: "pipe", cwd: "/" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  try {
    await options.onStart?.(proc);
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    await proc.exited;
    return { code: proc.exitCode, signal: proc.signalCode, stdout, stderr };
  } finally {
    clearTimeout(timer);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  }
}
