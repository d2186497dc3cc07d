// /mcp across two instances sharing one store, in-process: each app behind its own loopback
// server, so a forwarded request really crosses HTTP. An MCP session lives on the instance that
// answered its initialize; its requests that reach the other instance are forwarded there.
import { afterAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { defaultConfig } from "../config/schema";
import type { ExecutionRequest } from "../protocol/execution";
import type { ExecuteOptions } from "../protocol/isol8";
import { openKeyStore } from "../store/open-store";
import { type App, fakeEngine, KEY, makeApp, recordingEngine } from "../../test/server-fixtures";
import { INSTANCE_HEADER } from "./forward";
import { createTenancy, type Tenancy } from "./tenancy";

const OTHER = "other-key";
const store = openKeyStore({ path: ":memory:" });

interface Instance {
  app: App;
  tenancy: Tenancy;
  url: string;
  /** What its session engines were asked to run (run_code). */
  ran: { request: ExecutionRequest; options: ExecuteOptions }[];
  /** Every idle timeout the app set on a connection, in order (seconds; 0: lifted). */
  idle: number[];
  sessionIds(): string[];
  stop(): Promise<void>;
}

async function startInstance(): Promise<Instance> {
  const ran: Instance["ran"] = [];
  const idle: number[] = [];
  let app: App | undefined;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request) => app!.fetch(request, { setIdleTimeout: (seconds) => idle.push(seconds) }),
  });
  const url = `http://127.0.0.1:${server.port}`;
  const tenancy = createTenancy({ adminKeys: [KEY, OTHER], store, url, log: () => {} });
  await tenancy.start();
  const made = makeApp(defaultConfig(), fakeEngine(), { tenancy, sessionEngine: recordingEngine(ran) });
  app = made.app;
  return {
    app,
    tenancy,
    url,
    ran,
    idle,
    sessionIds: () => made.sessions.list().map((session) => session.id),
    async stop() {
      app!.close();
      await server.stop(true);
      await tenancy.instance.stop();
    },
  };
}

const [a, b] = await Promise.all([startInstance(), startInstance()]);
afterAll(async () => {
  await Promise.all([a.stop(), b.stop()]);
  await (await store).close();
});

const transportTo = (instance: Instance, key = KEY, sessionId?: string) =>
  new StreamableHTTPClientTransport(new URL(`${instance.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
    ...(sessionId ? { sessionId } : {}),
  });

/** A client of an existing MCP session (no initialize: the transport already names the session). */
async function rejoin(instance: Instance, sessionId: string, key = KEY) {
  const transport = transportTo(instance, key, sessionId);
  const client = new Client({ name: "rejoined", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

const rawPost = (instance: Instance, key: string, sessionId: string) =>
  fetch(`${instance.url}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "mcp-session-id": sessionId,
      "mcp-protocol-version": "2025-06-18",
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
  });

describe("/mcp with two instances", () => {
  test("an MCP session opened on A answers its tool calls sent to B: B forwards them to A, the only instance that runs anything", async () => {
    const opened = transportTo(a);
    const onA = new Client({ name: "opener", version: "1.0.0" });
    await onA.connect(opened);
    const sessionId = opened.sessionId!;
    expect(sessionId.startsWith(`${a.tenancy.instance.id}.`)).toBe(true);

    const { client: onB } = await rejoin(b, sessionId);
    const result = await onB.callTool({ name: "run_code", arguments: { code: "print('via B')" } });
    expect(result.isError).toBe(false);
    expect(a.ran.map((run) => run.request)).toEqual([{ code: "print('via B')", runtime: "python" }]);
    expect(b.ran).toEqual([]);
    expect(a.sessionIds()).toEqual([`mcp-${sessionId}-python`]);
    expect(b.sessionIds()).toEqual([]);
    // The answer names the instance that gave it.
    const listed = await rawPost(b, KEY, sessionId);
    expect(listed.status).toBe(200);
    expect(listed.headers.get(INSTANCE_HEADER)).toBe(a.tenancy.instance.id);
    await listed.text();
    // Still works: the same session on A itself.
    expect((await onA.callTool({ name: "run_code", arguments: { code: "print('on A')" } })).isError).toBe(false);
    expect(a.ran.length).toBe(2);
    await onA.close();
  });

  test("B lifts its connection's idle timeout while it relays A's answer, and sets it back when the answer ends", async () => {
    const opened = transportTo(a);
    const onA = new Client({ name: "opener", version: "1.0.0" });
    await onA.connect(opened);
    b.idle.length = 0;
    const listed = await rawPost(b, KEY, opened.sessionId!);
    await listed.text();
    expect(b.idle).toEqual([0, Math.ceil(defaultConfig().server.idleTimeoutMs / 1000)]);
    await onA.close();
  });

  test("another key naming A's session through B gets the same 404 as an unknown session; an id of no live instance is not forwarded", async () => {
    const opened = transportTo(a);
    const onA = new Client({ name: "opener", version: "1.0.0" });
    await onA.connect(opened);
    const intruder = await rawPost(b, OTHER, opened.sessionId!);
    expect(intruder.status).toBe(404);
    expect(intruder.headers.get(INSTANCE_HEADER)).toBe(a.tenancy.instance.id);
    const unknown = await rawPost(b, KEY, "i-0000gone.4f1b7a4e-0000-4000-8000-000000000000");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get(INSTANCE_HEADER)).toBe(b.tenancy.instance.id);
    expect(await intruder.text()).toBe(await unknown.text());
    // Still works: its owner's key.
    expect((await rawPost(b, KEY, opened.sessionId!)).status).toBe(200);
    await onA.close();
  });

  test("the session's GET stream requested through B is A's: it ends when the session ends on A", async () => {
    const opened = transportTo(a);
    const onA = new Client({ name: "opener", version: "1.0.0" });
    await onA.connect(opened);
    const sessionId = opened.sessionId!;
    // The SDK client may hold the one GET stream a session has: closed here, the stream is free.
    await opened.close();
    const headers = { authorization: `Bearer ${KEY}`, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" };
    // A silent stream's answer starts with its first event (the SDK client does not wait for it either).
    a.idle.length = 0;
    const streamed = fetch(`${b.url}/mcp`, { headers: { ...headers, accept: "text/event-stream" } }).then(async (response) => ({
      status: response.status,
      type: response.headers.get("content-type"),
      instance: response.headers.get(INSTANCE_HEADER),
      body: await response.text(),
    }));
    // A's route lifts its idle timeout once it holds the stream: only then is it ended.
    while (!a.idle.includes(0)) await Bun.sleep(5);
    expect((await fetch(`${b.url}/mcp`, { method: "DELETE", headers })).status).toBe(200);
    expect(await streamed).toEqual({ status: 200, type: "text/event-stream", instance: a.tenancy.instance.id, body: "" });
    expect((await rawPost(a, KEY, sessionId)).status).toBe(404);
  });

  test("DELETE through B ends the session on A and removes its sandboxes there", async () => {
    const opened = transportTo(a);
    const onA = new Client({ name: "opener", version: "1.0.0" });
    await onA.connect(opened);
    const sessionId = opened.sessionId!;
    await onA.callTool({ name: "run_code", arguments: { code: "1" } });
    expect(a.sessionIds()).toContain(`mcp-${sessionId}-python`);
    const { transport } = await rejoin(b, sessionId);
    await transport.terminateSession();
    expect(a.sessionIds()).not.toContain(`mcp-${sessionId}-python`);
    expect((await rawPost(a, KEY, sessionId)).status).toBe(404);
  });
});
