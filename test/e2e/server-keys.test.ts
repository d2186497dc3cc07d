// `isol8 keys` and store keys against `isol8 serve` (the compiled binary, its embedded SQLite
// store in the server's data directory): a key printed once, a concurrency quota of 1 seen by
// two parallel `isol8 run --host` (one answered, the other 429 with Retry-After), revocation,
// and keys kept as hashes across a restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, runBinary } from "../helpers";
import { serverProcesses, type StartedServer } from "./server-process";

const ADMIN = "keys-e2e-admin-key";
const servers = serverProcesses("isol8-tenants-keys-");
let server: StartedServer;
let home: string;

const keys = (args: string[], key = ADMIN) => runBinary(["keys", ...args, "--host", server.url, "--key", key]);

/** `isol8 run --host` as a child process (several at once). */
async function runRemote(key: string, code: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([BINARY, "run", "--host", server.url, "--key", key, "-e", code], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const [stdout, stderr, exit] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code: exit, stdout, stderr };
}

beforeAll(async () => {
  server = await servers.start({ keys: [ADMIN], config: { poolSize: 0 } });
  home = /key store: SQLite (\S+)\/\.isol8\/server\/keys\.db/.exec(server.stderr())?.[1] ?? "";
}, 60_000);
afterAll(() => servers.cleanup());

describe("isol8 keys against isol8 serve", () => {
  test("keys create --max-concurrent 1 prints the key once; of two parallel runs with it, one is answered, the other gets 429 with Retry-After", async () => {
    const created = keys(["create", "--name", "t", "--max-concurrent", "1"]);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^isol8_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain("shown this once");
    const listed = keys(["list"]);
    expect(listed.stdout).toContain(' t  active');
    expect(listed.stdout).not.toContain(key);

    const [first, second] = await Promise.all([
      runRemote(key, "import time; time.sleep(3); print('answered')"),
      Bun.sleep(700).then(() => runRemote(key, "print('second')")),
    ]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe("answered\n");
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain('HTTP 429: quota "maxConcurrent" reached');
    expect(second.stderr).toContain("retry after 1 s (Retry-After)");
    // Still works: alone, it runs.
    const alone = await runRemote(key, "print('alone')");
    expect(alone.stdout).toBe("alone\n");

    const usage = JSON.parse(keys(["usage", "--json"], key).stdout) as { principal: string; usage: { executions: number }; quotas: object };
    expect(usage.principal).toMatch(/^key:[a-z0-9]{10}$/);
    expect(usage.usage.executions).toBe(2);
    expect(usage.quotas).toEqual({ maxConcurrent: 1 });
  }, 90_000);

  test("a revoked key is refused; a rotated key's old secret is refused and the new one works; a store key cannot manage keys", async () => {
    const key = keys(["create", "--name", "short-lived"]).stdout.trim();
    const id = /^isol8_([a-z0-9]{10})_/.exec(key)![1]!;
    expect(keys(["create", "--name", "mine"], key).stderr).toContain("HTTP 403");
    const rotated = keys(["rotate", id]);
    expect(rotated.code).toBe(0);
    const fresh = rotated.stdout.trim();
    expect((await runRemote(key, "print(1)")).stderr).toContain("HTTP 403");
    expect((await runRemote(fresh, "print(1)")).stdout).toBe("1\n");
    expect(keys(["revoke", id]).stdout).toContain(`revoked ${id}`);
    expect((await runRemote(fresh, "print(1)")).stderr).toContain("HTTP 403");
    expect(keys(["list"]).stdout).toMatch(new RegExp(`${id}  short-lived  revoked`));
  }, 60_000);

  test("the store keeps hashes only, in the server's data directory, and its keys outlive a restart", async () => {
    const key = keys(["create", "--name", "durable"]).stdout.trim();
    const dir = join(home, ".isol8", "server");
    const files = readdirSync(dir).filter((name) => name.startsWith("keys.db"));
    expect(files).toContain("keys.db");
    const secret = key.slice("isol8_xxxxxxxxxx_".length);
    for (const name of files) expect(readFileSync(join(dir, name)).includes(secret)).toBe(false);
    await server.stop();
    server = await servers.start({ keys: [ADMIN], config: { poolSize: 0 }, env: { HOME: home } });
    expect((await runRemote(key, "print('after restart')")).stdout).toBe("after restart\n");
  }, 90_000);
});
