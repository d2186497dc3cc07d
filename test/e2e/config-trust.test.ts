// The compiled binary in a "repository" whose isol8.config.json loosens the sandbox and names
// a host program (docs/SECURITY.md A16): refused before anything runs, unless the user names
// the file (--config, ISOL8_CONFIG). The hook would write a marker file: it proves it never ran.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, runBinary, TEST_SCOPE } from "../helpers";

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
