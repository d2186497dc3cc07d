// The compiled binary in a "repository" whose isol8.config.json loosens the sandbox and names
// a host program (docs/SECURITY.md A16): refused before anything runs, unless the user names
// the file (--config, ISOL8_CONFIG). The hook would write a marker file: it proves it never ran.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, runBinary, TEST_SCOPE } from "../helpers";
import { listeningUrl } from "./server-process";

let root: string;
let repo: string;
let home: string;
let marker: string;

beforeAll(() => {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);
  root = mkdtempSync(join(tmpdir(), "isol8-e2e-trust-"));
  repo = join(root, "repo");
  home = join(root, "home");
  mkdirSync(repo);
  mkdirSync(home);
  marker = join(root, "hook-ran");
  const hook = join(repo, "hook.sh");
  writeFileSync(hook, `#!/bin/sh\necho "$1" >> ${marker}\n`);
  chmodSync(hook, 0o755);
  writeFileSync(
    join(repo, "isol8.config.json"),
    JSON.stringify({ audit: { enabled: true, logDir: "./audit", postLogScript: hook }, security: { seccomp: "unconfined" } }),
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const env = (extra: Record<string, string> = {}) => ({ ISOL8_SCOPE: TEST_SCOPE, HOME: home, ...extra });

/** Waits up to `ms` for the hook (started after the audit write, not awaited by the run) to leave its marker. */
async function markerAppears(ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms && !existsSync(marker); waited += 50) await Bun.sleep(50);
  return existsSync(marker);
}

describe("a config file found in the working directory", () => {
  test("postLogScript + unconfined: isol8 run exits 2 naming both keys and the opt-in; nothing runs, the hook never starts", async () => {
    const r = runBinary(["run", "-e", "print('ran')"], { cwd: repo, env: env() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const file = join(repo, "isol8.config.json");
    expect(r.stderr).toContain(`Cannot use config "${file}": it was found in the working directory`);
    expect(r.stderr).toContain('security.seccomp: "unconfined"');
    expect(r.stderr).toContain("audit.postLogScript:");
    expect(r.stderr).toContain("audit.logDir:");
    expect(r.stderr).toContain(`hint: if you trust this file, name it: --config ${file}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(repo, "audit"))).toBe(false);
    expect(await markerAppears(1_000)).toBe(false);
  }, 30_000);

  test("every command that reads the config refuses it (config, setup)", () => {
    for (const args of [["config"], ["setup", "--python", "x"]]) {
      const r = runBinary(args, { cwd: repo, env: env() });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("it was found in the working directory");
    }
  });

  test("still works: the same file named with --config runs, unconfined, and its hook runs on the host", async () => {
    const r = runBinary(["run", "--config", "isol8.config.json", "-e", "print(open('/proc/self/status').read().split('Seccomp:')[1].split()[0])"], {
      cwd: repo,
      env: env(),
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("0\n"); // seccomp mode 0: unconfined, as the named file says
    expect(r.code).toBe(0);
    expect(await markerAppears(5_000)).toBe(true);
  }, 60_000);

  test("still works: ISOL8_CONFIG names it too", () => {
    const r = runBinary(["config", "--json"], { cwd: repo, env: env({ ISOL8_CONFIG: join(repo, "isol8.config.json") }) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).security.seccomp).toBe("unconfined");
  });
});

/** A directory holding only an isol8.config.json with `document`; its own empty HOME beside it. */
function repoWith(name: string, document: object, userConfig?: object): { dir: string; file: string; home: string } {
  const dir = join(root, name);
  const userHome = join(root, `${name}-home`);
  mkdirSync(dir);
  mkdirSync(join(userHome, ".isol8"), { recursive: true });
  if (userConfig) writeFileSync(join(userHome, ".isol8", "config.json"), JSON.stringify(userConfig));
  const file = join(dir, "isol8.config.json");
  writeFileSync(file, JSON.stringify(document));
  return { dir, file, home: userHome };
}

describe("a config file found in the working directory: isol8 serve", () => {
  test("server.allowHostNetwork and server.allowInstalls: isol8 serve exits 2 naming both keys before it listens", () => {
    const repo = repoWith("serve-repo", { server: { allowHostNetwork: true, allowInstalls: true } });
    const r = runBinary(["serve", "--port", "0", "--hostname", "127.0.0.1", "--key", "trust-e2e-key"], { cwd: repo.dir, env: env({ HOME: repo.home }), timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain("http://");
    expect(r.stderr).toContain(`Cannot use config "${repo.file}": it was found in the working directory`);
    expect(r.stderr).toContain("server.allowHostNetwork: true (lets server clients run with the host's network)");
    expect(r.stderr).toContain("server.allowInstalls: true (lets server clients install packages");
    expect(r.stderr).toContain(`hint: if you trust this file, name it: --config ${repo.file}`);
  });

  test("still works: the same file named with --config serves, and holds clients to it (host networking admitted)", async () => {
    const repo = repoWith("serve-named", { server: { allowHostNetwork: true, allowInstalls: true } });
    const child = spawn(BINARY, ["serve", "--config", repo.file, "--port", "0", "--hostname", "127.0.0.1", "--key", "trust-e2e-key"], {
      cwd: repo.dir,
      env: { ...process.env, NO_COLOR: "1", ...env({ HOME: repo.home }) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let err = "";
      child.stderr!.on("data", (chunk) => (err += chunk));
      const url = await listeningUrl(child, () => err);
      const response = await fetch(`${url}/execute`, {
        method: "POST",
        headers: { authorization: "Bearer trust-e2e-key", "content-type": "application/json" },
        body: JSON.stringify({ request: { code: "print('host network admitted')", network: "host" } }),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { stdout: string }).stdout).toBe("host network admitted\n");
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  }, 60_000);
});

describe("a config file found in the working directory: keys of other kinds (isol8 run)", () => {
  // [key, the file's document, what the refusal line shows]: a list that adds entries, a
  // switch turned on, host files read into images, a table of names, a uid range.
  test.each([
    ["network.allowedCidrs (adds an internal range)", { network: { allowedCidrs: ["10.0.0.0/8"] } }, 'network.allowedCidrs: ["10.0.0.0/8"] (lets the proxy connect into internal address ranges'],
    ["server.allowInstalls (turns a switch on)", { server: { allowInstalls: true } }, "server.allowInstalls: true (lets server clients install packages"],
    ["images.caCertificateFiles (reads host files into images)", { images: { caCertificateFiles: ["/etc/hostname"] } }, 'images.caCertificateFiles: ["/etc/hostname"] (reads host files into every sandbox image'],
    ["network.hosts (points names at addresses)", { network: { hosts: { "api.example.test": "10.0.0.1" } } }, 'network.hosts: {"api.example.test":"10.0.0.1"} (points host names at addresses'],
    ["security.sandboxUids (moves the uids)", { security: { sandboxUids: { from: 1000, to: 1000 } } }, "security.sandboxUids: "],
  ] as const)("%s: isol8 run exits 2 naming the key and its value; nothing runs", (_name, document, line) => {
    const repo = repoWith(`run-${Object.keys(document)[0]}-${Object.keys(Object.values(document)[0]!)[0]}`, document);
    const r = runBinary(["run", "-e", "print('ran')"], { cwd: repo.dir, env: env({ HOME: repo.home }) });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`Cannot use config "${repo.file}": it was found in the working directory`);
    expect(r.stderr).toContain(line);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test("still works: the same keys are accepted when they loosen nothing relative to the user's own file (~/.isol8/config.json), and tightening is always accepted", () => {
    const user = { network: { allowedCidrs: ["10.0.0.0/8"] }, server: { allowInstalls: true } };
    const same = repoWith("run-same-as-user", { network: { allowedCidrs: ["10.0.0.0/8"] }, server: { allowInstalls: true }, defaults: { timeoutMs: 5000 } }, user);
    const tighter = repoWith("run-tighter", { network: { allowedCidrs: [] }, server: { allowInstalls: false }, images: { caCertificateFiles: [] } });
    for (const repo of [same, tighter]) {
      const r = runBinary(["run", "-e", "print('ran')"], { cwd: repo.dir, env: env({ HOME: repo.home }) });
      expect([repo.dir, r.stderr, r.stdout, r.code]).toEqual([repo.dir, "", "ran\n", 0]);
    }
    const shown = runBinary(["config", "--json"], { cwd: same.dir, env: env({ HOME: same.home }) });
    expect(JSON.parse(shown.stdout)).toMatchObject({ network: { allowedCidrs: ["10.0.0.0/8"] }, server: { allowInstalls: true }, defaults: { timeoutMs: 5000 } });
  }, 60_000);
});
