// createServer: the HTTP API in-process for embedders (the app of `isol8 serve`), with isol8
// 0.x's client calls: RemoteIsol8 with engine defaults, the 403 message, sessions and files,
// POST /cleanup's ok, GET /runtimes. Traffic stays on loopback.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RemoteIsol8 } from "../../src/client/remote";
import { createDockerClient } from "../../src/engine/docker";
import { findContainers } from "../../src/engine/cleanup";
import { createServer, type InProcessServer } from "../../src/server/create-server";
import type { RuntimeInfo } from "../../src/protocol/runtime-info";
import { TEST_SCOPE } from "../helpers";
import { eventBytes, outputBytes } from "../../src/protocol/output-bytes";

const KEY = "in-process-key";
const scope = `${TEST_SCOPE}-create-server-${process.pid}`;
let server: InProcessServer;
let listener: ReturnType<typeof Bun.serve>;
let host: string;

beforeAll(() => {
  server = createServer({ apiKey: KEY, port: 0, scope, config: {} });
  listener = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: server.fetch });
  host = `http://127.0.0.1:${listener.port}`;
});

afterAll(async () => {
  listener?.stop(true);
  await server?.stop();
  expect(await findContainers(createDockerClient(), { scope })).toEqual([]);
});

describe("createServer (in-process)", () => {
  test("RemoteIsol8(remote, { network }) runs; the engine defaults travel with the request", async () => {
    const client = new RemoteIsol8({ host, apiKey: KEY }, { network: "none", timeoutMs: 20_000 });
    await client.start();
    const result = await client.execute({ code: 'print("Hello Remote")', runtime: "python" });
    expect(result.stdout).toBe("Hello Remote\n");
    expect(result.exitCode).toBe(0);
    const refused = await new RemoteIsol8({ host, apiKey: KEY }, { network: "host" }).execute({ code: "1" }).catch((e: Error) => e);
    expect((refused as Error).message).toContain('option "network" is not allowed');
  }, 60_000);

  test("a wrong key: the error says Invalid API key", async () => {
    const error = await new RemoteIsol8({ host, apiKey: "wrong-key" }).execute({ code: "print(1)" }).catch((e: Error) => e);
    expect((error as Error).message).toContain("Invalid API key");
  });

  test("a session: putFile right after start(), then execute and getFile", async () => {
    const client = new RemoteIsol8({ host, apiKey: KEY, sessionId: "integ-session-1" });
    await client.start();
    await client.putFile("/sandbox/data.txt", "remote-file-content");
    const result = await client.execute({ code: "print(open('/sandbox/data.txt').read())", runtime: "python" });
    expect(result.stdout).toBe("remote-file-content\n");
    expect((await client.getFile("/sandbox/data.txt")).toString()).toBe("remote-file-content");
    await client.stop();
  }, 60_000);

  test("POST /cleanup answers ok with counts; GET /runtimes lists every runtime with its image", async () => {
    const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
    const cleanup = await fetch(`${host}/cleanup`, { method: "POST", headers, body: JSON.stringify({ images: false }) });
    const body = (await cleanup.json()) as Record<string, unknown>;
    expect(body.ok).toBe(true);
    expect(typeof body.sessions).toBe("number");
    expect(typeof body.containers).toBe("number");
    const runtimes = ((await (await fetch(`${host}/runtimes`, { headers })).json()) as { runtimes: RuntimeInfo[] }).runtimes;
    expect(runtimes.map((r) => r.name)).toEqual(["python", "node", "bun", "deno", "bash"]);
    const python = runtimes[0]!;
    expect(python.imageStatus).toBe("present");
    expect(runtimes.find((r) => r.name === "node")!.versions).toHaveProperty("npm");
  }, 60_000);

  test("exact bytes over HTTP: the result's stdoutBase64 and the stream events' base64", async () => {
    const client = new RemoteIsol8({ host, apiKey: KEY });
    const code = 'import sys; sys.stdout.buffer.write(b"\\xff\\xfeA"); sys.stdout.flush()';
    const result = await client.execute({ code });
    expect([...outputBytes(result, "stdout")]).toEqual([0xff, 0xfe, 0x41]);
    const pieces: Buffer[] = [];
    for await (const event of client.executeStream({ code })) if (event.type === "stdout") pieces.push(eventBytes(event));
    expect([...Buffer.concat(pieces)]).toEqual([0xff, 0xfe, 0x41]);
  }, 60_000);
});
