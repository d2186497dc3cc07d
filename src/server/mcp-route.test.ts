// /mcp in-process: the SDK's own client against the app's fetch function, over stand-in engines.
import { describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { defaultConfig, type Isol8Config } from "../config/schema";
import type { ExecutionRequest } from "../protocol/execution";
import type { ExecuteOptions } from "../protocol/isol8";
import { type App, call, fakeEngine, KEY, makeApp, recordingEngine } from "../../test/server-fixtures";
import { inMemoryTenancy } from "./tenancy";

function setup(config: Isol8Config = defaultConfig()) {
  const seen: { request: ExecutionRequest; options: ExecuteOptions }[] = [];
  const made = makeApp(config, fakeEngine(), { keys: [KEY, "other-key"], sessionEngine: recordingEngine(seen) });
  return { ...made, seen };
}

async function connect(app: App, key = KEY, name = "test-client") {
  const transport = new StreamableHTTPClientTransport(new URL("http://isol8.test/mcp"), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
    fetch: (input, init) => app.fetch(new Request(input instanceof URL ? input.href : input, init)),
  });
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

const rawPost = (app: App, key: string | null, body: unknown, sessionId?: string) =>
  app.fetch(
    new Request("http://isol8.test/mcp", {
      method: "POST",
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(sessionId ? { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" } : {}),
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify(body),
    }),
  );

describe("/mcp: admission", () => {
  test("without a key: 401 with the API's error body, before any MCP session exists", async () => {
    const { app } = setup();
    const response = await rawPost(app, null, { jsonrpc: "2.0", id: 1, method: "initialize", params: {} });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    expect((await call(app, "GET", "/mcp", undefined, "wrong-key")).status).toBe(403);
  });

  test("another key's MCP session is unreachable (404 as an unknown one); its owner keeps using it", async () => {
    const { app } = setup();
    const { client, transport } = await connect(app);
    const intruder = await rawPost(app, "other-key", { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "run_code", arguments: { code: "x" } } }, transport.sessionId);
    expect(intruder.status).toBe(404);
    const unknown = await rawPost(app, KEY, { jsonrpc: "2.0", id: 8, method: "tools/list" }, "no-such-session");
    expect(unknown.status).toBe(404);
    expect(await intruder.text()).toBe(await unknown.text());
    expect((await client.listTools()).tools.length).toBe(7);
    await client.close();
  });

  test("a request without a session id that is not initialize is refused (400)", async () => {
    const { app } = setup();
    expect((await rawPost(app, KEY, { jsonrpc: "2.0", id: 1, method: "tools/list" })).status).toBe(400);
  });
});

describe("/mcp: tools", () => {
  test("tools are listed with schemas that compile; run_code offers only what the policy allows", async () => {
    const { app } = setup();
    const { client } = await connect(app);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["run_code", "run_cell", "reset_context", "write_file", "read_file", "list_files", "list_runtimes"]);
    const ajv = new AjvJsonSchemaValidator();
    for (const tool of tools) {
      expect(tool.description!.length).toBeGreaterThan(40);
      expect(tool.inputSchema.type).toBe("object");
      expect(() => ajv.getValidator(tool.inputSchema)).not.toThrow();
      if (tool.outputSchema) expect(() => ajv.getValidator(tool.outputSchema!)).not.toThrow();
    }
    const runCode = tools.find((t) => t.name === "run_code")!.inputSchema.properties as Record<string, { enum?: string[]; maximum?: number }>;
    expect(runCode.network!.enum).toEqual(["none", "filtered"]);
    expect(runCode.installPackages).toBeUndefined();
    expect(runCode.allow).toBeUndefined();
    expect(runCode.timeoutMs!.maximum).toBe(defaultConfig().defaults.timeoutMs);
    await client.close();
  });

  test("a server that allows installs and host networking offers them", async () => {
    const config = defaultConfig();
    config.server.allowInstalls = true;
    config.server.allowHostNetwork = true;
    const { app } = setup(config);
    const { client } = await connect(app);
    const runCode = (await client.listTools()).tools.find((t) => t.name === "run_code")!.inputSchema.properties as Record<string, { enum?: string[] }>;
    expect(runCode.network!.enum).toEqual(["none", "filtered", "host"]);
    expect(runCode.installPackages).toBeDefined();
    await client.close();
  });

  test("run_code runs in the key's session for the runtime; the audit context carries principal, session and client name", async () => {
    const { app, seen, sessions } = setup();
    const { client } = await connect(app, KEY, "claude-code");
    const result = await client.callTool({ name: "run_code", arguments: { code: "print(1)" } });
    expect(result.isError).toBe(false);
    expect((result.content as { text: string }[])[0]!.text).toContain("exit code 0");
    expect((result.content as { text: string }[])[0]!.text).toContain("out");
    expect((result.structuredContent as { exitCode: number }).exitCode).toBe(0);
    expect(seen[0]!.request).toEqual({ code: "print(1)", runtime: "python" });
    const [session] = sessions.list();
    // mcp-<MCP session id>-<runtime>; the MCP session id names this instance: <instance id>.<uuid>
    expect(session!.id).toMatch(/^mcp-i-[0-9a-f]+\.[0-9a-f-]{36}-python$/);
    expect(seen[0]!.options.audit).toEqual({ principal: session!.owner, sessionId: session!.id, client: "claude-code" });
    await client.close();
  });

  test("a refused option is an MCP error naming it, and nothing runs (host networking, a limit above the policy, installs)", async () => {
    const { app, seen } = setup();
    const { client } = await connect(app);
    for (const [args, field] of [
      [{ code: "1", network: "host" }, "network"],
      [{ code: "1", timeoutMs: defaultConfig().defaults.timeoutMs + 1 }, "timeoutMs"],
      [{ code: "1", installPackages: ["requests"] }, "installPackages"],
    ] as const) {
      const error = await client.callTool({ name: "run_code", arguments: args }).then(
        () => null,
        (e: { code: number; message: string; data: { code: string; field: string } }) => e,
      );
      expect(error).not.toBeNull();
      expect(error!.code).toBe(-32602);
      expect(error!.data).toMatchObject({ code: "policy-denied", field });
      expect(error!.message).toContain(`option "${field}" is not allowed`);
    }
    const cell = await client.callTool({ name: "run_cell", arguments: { code: "1", timeoutMs: defaultConfig().defaults.timeoutMs + 1 } }).catch((e: { data: unknown }) => e.data);
    expect(cell).toMatchObject({ code: "policy-denied", field: "timeoutMs" });
    expect(seen).toEqual([]);
    await client.close();
  });

  test("invalid arguments are an MCP error naming the field", async () => {
    const { app } = setup();
    const { client } = await connect(app);
    const error = await client.callTool({ name: "run_code", arguments: { code: "1", runtime: "cobol" } }).catch((e: { code: number; data: { field: string } }) => e);
    expect(error).toMatchObject({ code: -32602, data: { code: "invalid-request", field: "runtime" } });
    await client.close();
  });

  test("files round-trip through write_file and read_file; binary comes back as base64", async () => {
    const { app } = setup();
    const { client } = await connect(app);
    await client.callTool({ name: "write_file", arguments: { path: "a.txt", content: "héllo" } });
    const text = await client.callTool({ name: "read_file", arguments: { path: "a.txt" } });
    expect(text.structuredContent).toEqual({ path: "a.txt", size: 6, encoding: "utf8", content: "héllo" });
    const bytes = Buffer.from([0, 255, 1, 254]).toString("base64");
    await client.callTool({ name: "write_file", arguments: { path: "b.bin", content: bytes, encoding: "base64" } });
    const binary = await client.callTool({ name: "read_file", arguments: { path: "b.bin" } });
    expect(binary.structuredContent).toEqual({ path: "b.bin", size: 4, encoding: "base64", content: bytes });
    const missing = await client.callTool({ name: "read_file", arguments: { path: "nope" } }).catch((e: { data: unknown }) => e.data);
    expect(missing).toMatchObject({ code: "file-refused", reason: "not-found" });
    await client.close();
  });
});

describe("/mcp: session end", () => {
  test("DELETE ends the MCP session and removes its server sessions", async () => {
    const { app, sessions } = setup();
    const { client, transport } = await connect(app);
    await client.callTool({ name: "run_code", arguments: { code: "1" } });
    await client.callTool({ name: "run_code", arguments: { code: "1", runtime: "node" } });
    expect(sessions.list().map((s) => s.id.split("-").at(-1)).sort()).toEqual(["node", "python"]);
    await transport.terminateSession();
    expect(sessions.list()).toEqual([]);
    await client.close();
  });
});

describe("/mcp under a store key", () => {
  test("the key's policy narrows run_code, and its concurrency quota holds for tool calls (quota-exceeded as an MCP error); within both it runs", async () => {
    const seen: { request: ExecutionRequest; options: ExecuteOptions }[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // Session engines whose runs wait for the gate: the first tool call holds the key's lease.
    const held = () => {
      const engine = recordingEngine(seen)();
      const stream = engine.executeStream.bind(engine);
      return Object.assign(engine, {
        async *executeStream(request: ExecutionRequest, options: ExecuteOptions = {}) {
          await gate;
          yield* stream(request, options);
        },
      });
    };
    const { app } = makeApp(defaultConfig(), fakeEngine(), { tenancy: inMemoryTenancy([KEY]), sessionEngine: held });
    const created = await call(app, "POST", "/keys", { name: "agent", policy: { limits: { timeoutMs: 5_000 } }, quotas: { maxConcurrent: 1 } });
    const { key } = (await created.json()) as { key: string };
    const { client } = await connect(app, key);
    const refused = await client.callTool({ name: "run_code", arguments: { code: "1", timeoutMs: 6_000 } }).catch((e: { code: number; data: unknown }) => e);
    expect(refused).toMatchObject({ code: -32602, data: { code: "policy-denied", field: "timeoutMs" } });

    const first = client.callTool({ name: "run_code", arguments: { code: "print(1)", timeoutMs: 5_000 } });
    await Bun.sleep(20);
    const other = await connect(app, key);
    const overQuota = await other.client.callTool({ name: "run_code", arguments: { code: "print(2)" } }).catch((e: { data: unknown }) => e);
    expect(overQuota).toMatchObject({ data: { code: "quota-exceeded" } });
    // Still works: the first call, within the key's limit, finishes; then the other key's client runs.
    open();
    expect((await first).isError).toBe(false);
    expect((await other.client.callTool({ name: "run_code", arguments: { code: "print(3)" } })).isError).toBe(false);
    expect(seen.map((s) => s.request.code)).toEqual(["print(1)", "print(3)"]);
    expect(seen[0]!.request.timeoutMs).toBe(5_000);
    await client.close();
    await other.client.close();
  });
});
