// Streamable HTTP at /mcp on `isol8 serve` (the compiled binary, on loopback), with the SDK's
// own client: the scripted session, the key check, another key's session, and the session's
// end (DELETE at once; a client that just leaves, after server.mcp.keepAliveMs).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { BINARY, TEST_SCOPE, testEngine } from "../helpers";
import { ensureDataImage } from "../docker/data-image";
import { containerExists, eventually, type Scenario, scenarioTests, textOf } from "./mcp-scenario";
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
    expect(ok.headers.get("mcp-session-id")).toMatch(/^i-[0-9a-f]+\.[0-9a-f-]{36}$/);
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
    // nor can it read the session's stream or end it
    const asOther = { authorization: `Bearer ${OTHER}`, "mcp-session-id": main.transport.sessionId!, "mcp-protocol-version": "2025-06-18", accept: "text/event-stream" };
    expect((await fetch(`${server.url}/mcp`, { method: "GET", headers: asOther })).status).toBe(404);
    expect((await fetch(`${server.url}/mcp`, { method: "DELETE", headers: asOther })).status).toBe(404);
    // still works: the owner's session is intact
    const mine = await main.client.callTool({ name: "read_file", arguments: { path: "notes/a.txt" } });
    expect(mine.structuredContent).toMatchObject({ content: "héllo\n" });
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

  test("isol8 mcp --host --key: the tools run on the server under its policy; disconnecting deletes the server sessions", async () => {
    const home = mkdtempSync(join(tmpdir(), "isol8-mcp-remote-"));
    const transport = new StdioClientTransport({
      command: BINARY,
      args: ["mcp", "--host", server.url, "--key", KEY],
      cwd: home,
      env: { ...(process.env as Record<string, string>), HOME: home, ISOL8_SCOPE: TEST_SCOPE },
      stderr: "pipe",
    });
    const client = new Client({ name: "isol8-e2e-remote", version: "1.0.0" });
    try {
      await client.connect(transport);
      const before = (await sessionsOf(KEY)).map((s) => s.id);
      const ran = await client.callTool({ name: "run_code", arguments: { code: "print('on the server')" } });
      expect(ran.isError).toBe(false);
      expect(textOf(ran)).toContain("on the server");
      const container = (ran.structuredContent as { containerId: string }).containerId;
      const created = (await sessionsOf(KEY)).filter((s) => !before.includes(s.id));
      expect(created.map((s) => s.id)).toEqual([expect.stringMatching(/^mcp-[0-9a-f-]{12}-python$/)]);
      expect(created[0]!.containerId).toBe(container);
      // the server's policy: host networking is refused there, as an MCP error
      const refused = await client.callTool({ name: "run_code", arguments: { code: "print('ran')", network: "host" } }).then(
        () => null,
        (e: { code: number; data: { code: string; field: string } }) => e,
      );
      expect(refused).toMatchObject({ code: -32602, data: { code: "policy-denied", field: "network" } });
      await client.close();
      expect(await eventually(() => !containerExists(container), 15_000)).toBe(true);
      expect((await sessionsOf(KEY)).filter((s) => !before.includes(s.id))).toEqual([]);
    } finally {
      await client.close().catch(() => {});
      rmSync(home, { recursive: true, force: true });
    }
  });
});
