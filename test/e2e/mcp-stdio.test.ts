// `isol8 mcp` over stdio, started exactly as the README's client configuration says, with the
// SDK's own client: the scripted session, then disconnecting removes the session's containers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { BINARY, ROOT, TEST_SCOPE, testEngine } from "../helpers";
import { ensureDataImage } from "../docker/data-image";
import { containerExists, eventually, type Scenario, scenarioTests } from "./mcp-scenario";

/** The stdio entry of README's client configuration (after the `<!-- mcp-stdio-config -->` marker). */
function readmeStdioEntry(): { command: string; args: string[] } {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /<!-- mcp-stdio-config -->\s*```json\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error("README has no stdio MCP configuration");
  return (JSON.parse(block) as { mcpServers: { isol8: { command: string; args: string[] } } }).mcpServers.isol8;
}

const home = mkdtempSync(join(tmpdir(), "isol8-mcp-stdio-"));
let client: Client;
let transport: StdioClientTransport;
let stderr = "";
const scenario: Scenario = { client: () => client, containers: new Set() };

beforeAll(async () => {
  const engine = testEngine();
  const dataImage = await ensureDataImage(engine);
  await engine.stop();
  // The user's own config: the python sandboxes run on the data image (matplotlib).
  mkdirSync(join(home, ".isol8"));
  writeFileSync(
    join(home, ".isol8", "config.json"),
    JSON.stringify({ audit: { enabled: true, logDir: join(home, "audit") }, server: { mcp: { images: { python: dataImage } } } }),
  );
  const entry = readmeStdioEntry();
  expect(entry).toEqual({ command: "isol8", args: ["mcp"] });
  transport = new StdioClientTransport({
    command: entry.command,
    args: entry.args,
    cwd: home,
    // `isol8` is the compiled binary: dist/ first on PATH.
    env: { ...(process.env as Record<string, string>), PATH: `${dirname(BINARY)}:${process.env.PATH}`, HOME: home, ISOL8_SCOPE: TEST_SCOPE },
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk) => (stderr += chunk));
  client = new Client({ name: "isol8-e2e-stdio", version: "1.0.0" });
  await client.connect(transport);
}, 600_000);

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

describe("isol8 mcp (stdio, the README's command line)", () => {
  scenarioTests(scenario);

  test("the server says who it is", () => {
    expect(client.getServerVersion()?.name).toBe("isol8");
  });

  test("audit records of tool calls carry the MCP client's name", () => {
    const records = readdirSync(join(home, "audit")).flatMap((file) =>
      readFileSync(join(home, "audit", file), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
    expect(records.filter((r) => r.kind === undefined && r.client === "isol8-e2e-stdio").length).toBeGreaterThanOrEqual(3);
    expect(records.filter((r) => r.kind === "cell" && r.client === "isol8-e2e-stdio").length).toBeGreaterThanOrEqual(3);
    expect(records.filter((r) => r.client !== "isol8-e2e-stdio")).toEqual([]);
  });

  test("disconnecting (stdin closed) removes the session's containers and ends the process", async () => {
    expect(scenario.containers.size).toBeGreaterThanOrEqual(2); // python and node
    for (const id of scenario.containers) expect(containerExists(id)).toBe(true);
    const pid = transport.pid!;
    await client.close();
    expect(await eventually(() => [...scenario.containers].every((id) => !containerExists(id)), 15_000)).toBe(true);
    expect(
      await eventually(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 15_000),
    ).toBe(true);
    expect(stderr).not.toContain("unexpected error");
  });
});
