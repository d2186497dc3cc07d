// The README's RemoteIsol8 example, run as written against `isol8 serve` (only the package name
// resolved to this checkout's library and the host set to the test server's URL).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers";
import { serverProcesses, type StartedServer } from "./server-process";

const servers = serverProcesses("isol8-readme-");
let server: StartedServer;
let work: string;

/** The first ```ts block of README.md that uses RemoteIsol8. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const example = blocks.find((block) => block.includes("new RemoteIsol8("));
  if (!example) throw new Error("README.md has no RemoteIsol8 example");
  return example;
}

beforeAll(async () => {
  // The example's key is "k": the server accepts exactly that one.
  server = await servers.start({ keys: ["k"] });
  work = mkdtempSync(join(tmpdir(), "isol8-readme-run-"));
}, 60_000);
afterAll(() => {
  servers.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe("README: RemoteIsol8", () => {
  test("the example runs as written: the file put before any execution is read back", async () => {
    const example = readmeExample();
    expect(example).toContain('await remote.putFile("/sandbox/data.csv"');
    const script = example
      .replace('from "isol8"', `from ${JSON.stringify(join(ROOT, "dist", "index.js"))}`)
      .replace("http://127.0.0.1:3000", server.url);
    writeFileSync(join(work, "example.mjs"), script);
    const run = spawnSync(join(ROOT, "node_modules", ".bin", "bun"), [join(work, "example.mjs")], { encoding: "utf8", timeout: 120_000 });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("a,b\n1,2\n\n\n");
    expect(run.status).toBe(0);
    // stop() deleted the session.
    const sessions = await fetch(`${server.url}/sessions`, { headers: { authorization: "Bearer k" } });
    expect(((await sessions.json()) as { sessions: unknown[] }).sessions).toEqual([]);
  }, 120_000);
});
