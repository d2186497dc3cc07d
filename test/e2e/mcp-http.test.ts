// Streamable HTTP at /mcp on `isol8 serve` (the compiled binary, on loopback), with the SDK's
// own client: the scripted session, the key check, another key's session, and the session's
// end (DELETE at once; a client that just leaves, after server.mcp.keepAliveMs).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { testEngine } from "../helpers";
import { ensureDataImage } from "../docker/data-image";
import { containerExists, eventually, type Scenario, scenarioTests } from "./mcp-scenario";
import { type StartedServer, serverProcesses } from "./server-process";

const KEY = "mcp-e2e-key-one";
const OTHER = "mcp-e2e-key-two";
const servers = serverProcesses("isol8-mcp-http-");
let server: StartedServer;

async function connect(key = KEY, name = "isol8-e2e-http") {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

const sessionsOf = async (key: string) =>
  ((await (await fetch(`${server.url}/sessions`, { headers: { authorization: `Bearer ${key}` } })).json()) as { sessions: { id: string; containerId: string | null }[] }).sessions;

const auditDir = mkdtempSync(join(tmpdir(), "isol8-mcp-audit-"));
/** Every audit record the server wrote. */
const auditRecords = () =>
  readdirSync(auditDir).flatMap((file) =>
    readFileSync(join(auditDir, file), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>),
  );

let main: Awaited<ReturnType<typeof connect>>;
const scenario: Scenario = { client: () => main.client, containers: new Set() };

beforeAll(async () => {
  const engine = testEngine();
  const dataImage = await ensureDataImage(engine);
  await engine.stop();
  server = await servers.start({
    keys: [KEY, OTHER],
    // The sandbox image is the operator's choice (server.mcp.images): no client option, no allowedImages entry.
    config: { audit: { enabled: true, logDir: auditDir }, server: { mcp: { keepAliveMs: 1_000, images: { python: dataImage } } } },
  });
  main = await connect();
}, 600_000);

afterAll(async () => {
  await server?.stop();
  servers.cleanup();
  rmSync(auditDir, { recursive: true, force: true });
});

describe("/mcp on isol8 serve (streamable HTTP)", () => {
  test("without a key: 401 with the API's error body; with a wrong key: 403", async () => {
    const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } };
    const post = (headers: Record<string, string>) =>
      fetch(`${server.url}/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers }, body: JSON.stringify(initialize) });
    const none = await post({});
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: "unauthorized" } });
    expect((await post({ authorization: "Bearer not-a-key" })).status).toBe(403);
    // still works: the same request with a key starts a session
    const ok = await post({ authorization: `Bearer ${KEY}` });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("mcp-session-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  scenarioTests(scenario);

  test("the session's sandboxes are the key's server sessions; another key reaches neither them nor the MCP session", async () => {
    const own = await sessionsOf(KEY);
    const prefix = `mcp-${main.transport.sessionId}-`;
    expect(own.filter((s) => s.id.startsWith(prefix)).map((s) => s.id.slice(prefix.length)).sort()).toEqual(["node", "python"]);
    expect(await sessionsOf(OTHER)).toEqual([]);
    const intruder = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${OTHER}`, "mcp-session-id": main.transport.sessionId!, "mcp-protocol-version": "2025-06-18", "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "read_file", arguments: { path: "notes/a.txt" } } }),
    });
    expect(intruder.status).toBe(404);
    expect(await intruder.text()).not.toContain("héllo");
    // the refused bash runs of the scenario made no session
    expect(own.some((s) => s.id.endsWith("-bash"))).toBe(false);
  });

  test("audit records of tool calls carry the MCP client's name, the principal and the session", async () => {
    const records = auditRecords();
    const executions = records.filter((r) => r.kind === undefined && r.client === "isol8-e2e-http");
    const cells = records.filter((r) => r.kind === "cell" && r.client === "isol8-e2e-http");
    expect(executions.length).toBeGreaterThanOrEqual(3);
    expect(cells.length).toBeGreaterThanOrEqual(3);
    for (const record of [...executions, ...cells]) {
      expect(record.principal).toMatch(/^key:[0-9a-f]{12}$/);
      expect(String(record.sessionId)).toStartWith(`mcp-${main.transport.sessionId}-`);
    }
  });

  test("DELETE (the client ends the session) removes its containers at once", async () => {
    expect(scenario.containers.size).toBeGreaterThanOrEqual(2);
    for (const id of scenario.containers) expect(containerExists(id)).toBe(true);
    await main.transport.terminateSession();
    await main.client.close();
    expect(await eventually(() => [...scenario.containers].every((id) => !containerExists(id)), 10_000)).toBe(true);
    expect((await sessionsOf(KEY)).filter((s) => s.id.startsWith(`mcp-${main.transport.sessionId}-`))).toEqual([]);
  });

  test("a client that goes away without DELETE: its containers are removed after the keep-alive", async () => {
    const { client, transport } = await connect();
    const result = await client.callTool({ name: "run_code", arguments: { code: "print('hi')" } });
    const container = (result.structuredContent as { containerId: string }).containerId;
    expect(containerExists(container)).toBe(true);
    const id = transport.sessionId;
    await client.close();
    expect(await eventually(() => !containerExists(container), 15_000)).toBe(true);
    expect((await sessionsOf(KEY)).some((s) => s.id.startsWith(`mcp-${id}-`))).toBe(false);
  });
});
