// The opt-in local warm daemon (`isol8 serve --local`) through the compiled binary: `isol8 run`
// uses it only when its directory, socket and key file are the user's own and owner-only and it
// runs with the same configuration; otherwise (another owner, open modes, a planted socket,
// another configuration, a dead daemon) it runs one-shot as before, with the same output.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, runBinary, TEST_SCOPE } from "../helpers";
import { listeningUrl } from "./server-process";

const work = mkdtempSync(join(tmpdir(), "isol8-daemon-"));
const home = join(work, "home");
const daemonDir = join(work, "daemon");
mkdirSync(home);
const env = { HOME: home, ISOL8_DAEMON_DIR: daemonDir, ISOL8_SCOPE: TEST_SCOPE, ISOL8_CONFIG: "" };
let daemon: ChildProcess | undefined;
let daemonExited: Promise<number> | undefined;

/** Starts `isol8 serve --local` and waits for its "isol8 unix:..." line. */
function startDaemon(extraEnv: Record<string, string> = {}): Promise<{ child: ChildProcess; exited: Promise<number>; stderr: () => string }> {
  const child = spawn(BINARY, ["serve", "--local"], { cwd: work, env: { ...process.env, ...env, NO_COLOR: "1", ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (c) => (err += c));
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  return listeningUrl(child, () => err).then(() => ({ child, exited, stderr: () => err }));
}

const run = (args: string[], extraEnv: Record<string, string> = {}, cwd = work) =>
  runBinary(["run", "--debug", ...args], { cwd, env: { ...env, ...extraEnv } });

beforeAll(async () => {
  const started = await startDaemon();
  daemon = started.child;
  daemonExited = started.exited;
}, 60_000);

afterAll(async () => {
  daemon?.kill("SIGTERM");
  if (daemonExited) expect(await daemonExited).toBe(0);
  rmSync(work, { recursive: true, force: true });
});

describe("isol8 serve --local", () => {
  test("its directory is 0700, its socket and key file 0600, all the user's", () => {
    const uid = process.getuid!();
    expect(statSync(daemonDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(daemonDir, "serve.sock")).mode & 0o777).toBe(0o600);
    expect(statSync(join(daemonDir, "key")).mode & 0o777).toBe(0o600);
    for (const path of [daemonDir, join(daemonDir, "serve.sock"), join(daemonDir, "key")]) expect(statSync(path).uid).toBe(uid);
  });

  test("a second daemon on the same socket is refused", async () => {
    const second = spawn(BINARY, ["serve", "--local"], { cwd: work, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    second.stderr!.on("data", (c) => (err += c));
    const code = await new Promise<number>((resolve) => second.on("exit", (c) => resolve(c ?? -1)));
    expect(code).toBe(2);
    expect(err).toContain("one already listens");
  }, 30_000);

  test("a directory that is not the user's own is refused (exit 2), not made owner-only", () => {
    const foreign = join(work, "foreign");
    mkdirSync(foreign);
    chmodSync(foreign, 0o777);
    chownSync(foreign, 4242, 4242);
    const result = runBinary(["serve", "--local"], { cwd: work, env: { ...env, ISOL8_DAEMON_DIR: foreign } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Cannot use "${foreign}" for the local daemon: it is not a directory of yours`);
    expect(statSync(foreign).mode & 0o777).toBe(0o777);
  });

  test("--port, --hostname and --key are refused with --local", () => {
    const result = runBinary(["serve", "--local", "--port", "3000"], { cwd: work, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Cannot use --port, --hostname or --key with --local");
  });
});

describe("isol8 run and the local daemon", () => {
  test("used when it is the user's own and runs with the same configuration: same output and exit code", () => {
    const result = run(["-e", "import sys; print('hello'); sys.exit(3)"]);
    expect(result.stderr).toContain(`running through the local daemon at ${join(daemonDir, "serve.sock")}`);
    expect(result.stdout).toBe("hello\n");
    expect(result.code).toBe(3);
  });

  test("--no-daemon: one-shot, same output", () => {
    const result = run(["--no-daemon", "-e", "import sys; print('hello'); sys.exit(3)"]);
    expect(result.stderr).not.toContain("running through the local daemon");
    expect(result.stdout).toBe("hello\n");
    expect(result.code).toBe(3);
  });

  test("another configuration (a project file in the working directory): not used, one-shot", () => {
    const project = join(work, "project");
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, "isol8.config.json"), JSON.stringify({ defaults: { timeoutMs: 12_345 } }));
    const result = run(["-e", "print('hello')"], {}, project);
    expect(result.stderr).toContain("local daemon not used: it runs with another configuration");
    expect(result.stdout).toBe("hello\n");
  });

  test("a request the daemon's server policy refuses (host network) runs one-shot, as without the daemon", () => {
    const result = run(["--net", "host", "-e", "print('hello')"]);
    expect(result.stderr).toContain("local daemon not used:");
    expect(result.stdout).toBe("hello\n");
  });

  describe("never when its files are not the user's own or are open to others", () => {
    const socket = join(daemonDir, "serve.sock");
    const key = join(daemonDir, "key");
    test.each<[string, () => void, () => void, string]>([
      ["the directory open to others (0755)", () => chmodSync(daemonDir, 0o755), () => chmodSync(daemonDir, 0o700), "its directory is open to group or others"],
      ["the directory another user's", () => chownSync(daemonDir, 4242, 4242), () => chownSync(daemonDir, process.getuid!(), process.getgid!()), "its directory belongs to uid 4242"],
      ["the socket another user's (as a planted one would be)", () => chownSync(socket, 4242, 4242), () => chownSync(socket, process.getuid!(), process.getgid!()), "its socket belongs to uid 4242"],
      ["the key file readable by others", () => chmodSync(key, 0o644), () => chmodSync(key, 0o600), "its key file is open to group or others"],
      ["the key file another user's", () => chownSync(key, 4242, 4242), () => chownSync(key, process.getuid!(), process.getgid!()), "its key file belongs to uid 4242"],
    ])("%s: not used, the run is one-shot and still works; restored, it is used again", (_name, spoil, restore, reason) => {
      spoil();
      try {
        const result = run(["-e", "print('hello')"]);
        expect(result.stderr).toContain(`local daemon not used: ${reason}`);
        expect(result.stderr).not.toContain("running through the local daemon");
        expect(result.stdout).toBe("hello\n");
      } finally {
        restore();
      }
      const again = run(["-e", "print('hello')"]);
      expect(again.stderr).toContain("running through the local daemon");
    }, 60_000);
  });

  test("a stale socket (the daemon is gone): one-shot; a new daemon replaces the socket", async () => {
    daemon!.kill("SIGTERM");
    expect(await daemonExited!).toBe(0);
    const result = run(["-e", "print('hello')"]);
    expect(result.stderr).toContain("local daemon not used:");
    expect(result.stdout).toBe("hello\n");
    const started = await startDaemon();
    daemon = started.child;
    daemonExited = started.exited;
    expect(run(["-e", "print('hello')"]).stderr).toContain("running through the local daemon");
  }, 90_000);
});
