// Sessions belong to the key that created them (E6, F11), against real containers: a server
// with two keys; Bob can neither use, read, write, list, stream in, clean up nor delete Alice's
// session, even by naming its id, and Alice's session is unaffected throughout.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RemoteIsol8 } from "../../src/client/remote";
import { Isol8Error } from "../../src/errors";
import type { StreamEvent } from "../../src/protocol/execution";
import { serverProcesses, type StartedServer } from "./server-process";

const ALICE = "alice-e2e-key";
const BOB = "bob-e2e-key";
const ID = "shared-name";
const servers = serverProcesses("isol8-sessions-");
let server: StartedServer;

const auth = (key: string) => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });
const listed = async (key: string) =>
  ((await (await fetch(`${server.url}/sessions`, { headers: auth(key) })).json()) as { sessions: { id: string }[] }).sessions.map((s) => s.id);

beforeAll(async () => {
  server = await servers.start({ keys: [ALICE, BOB] });
}, 60_000);
afterAll(() => servers.cleanup());

describe("isol8 serve: sessions per key", () => {
  test("Bob cannot reach Alice's session by its id; the same id is his own, separate session", async () => {
    const alice = new RemoteIsol8({ host: server.url, apiKey: ALICE, sessionId: ID });
    const bob = new RemoteIsol8({ host: server.url, apiKey: BOB, sessionId: ID });
    await alice.execute({ code: "open('/sandbox/alice.txt','w').write('only for alice')" });

    // Read, write, delete, list: 404 / nothing, as if the session did not exist.
    const read = await bob.getFile("/sandbox/alice.txt").catch((e: unknown) => e);
    expect(read).toBeInstanceOf(Isol8Error);
    expect((read as Error).message).toContain("HTTP 404");
    expect((read as Error).message).not.toContain("only for alice");
    const write = await bob.putFile("/sandbox/alice.txt", "bob was here").catch((e: unknown) => e);
    expect((write as Error).message).toContain("HTTP 404");
    expect((await fetch(`${server.url}/session/${ID}`, { method: "DELETE", headers: auth(BOB) })).status).toBe(404);
    expect(await listed(BOB)).toEqual([]);

    // Execute and stream under the same id: Bob's own container, without Alice's file.
    const probe = "import os; print(os.path.exists('/sandbox/alice.txt'))";
    expect((await bob.execute({ code: probe })).stdout).toBe("False\n");
    const events: StreamEvent[] = [];
    for await (const event of bob.executeStream({ code: `${probe}; open('/sandbox/bob.txt','w').write('bob')` })) events.push(event);
    expect(events.filter((e) => e.type === "stdout").map((e) => e.data).join("")).toBe("False\n");
    expect(await listed(BOB)).toEqual([ID]);
    expect((await alice.execute({ code: "import os; print(os.path.exists('/sandbox/bob.txt'))" })).stdout).toBe("False\n");

    // Bob's cleanup and delete remove his session only.
    const cleaned = (await (await fetch(`${server.url}/cleanup`, { method: "POST", headers: auth(BOB), body: "{}" })).json()) as { sessions: number };
    expect(cleaned.sessions).toBe(1);
    expect(await listed(BOB)).toEqual([]);
    expect(await listed(ALICE)).toEqual([ID]);
    expect((await alice.getFile("/sandbox/alice.txt")).toString()).toBe("only for alice");
    expect((await alice.execute({ code: "print(open('/sandbox/alice.txt').read())" })).stdout).toBe("only for alice\n");

    // Alice deletes her own.
    expect((await fetch(`${server.url}/session/${ID}`, { method: "DELETE", headers: auth(ALICE) })).status).toBe(200);
    expect(await listed(ALICE)).toEqual([]);
  }, 120_000);

  test("still works: each key keeps its own sessions across requests; a third key is refused", async () => {
    const alice = new RemoteIsol8({ host: server.url, apiKey: ALICE, sessionId: "a-1" });
    await alice.execute({ code: "print(1)" });
    await alice.putFile("/sandbox/kept.txt", "kept");
    expect((await alice.execute({ code: "print(open('/sandbox/kept.txt').read())" })).stdout).toBe("kept\n");
    await alice.stop();
    const stranger = await fetch(`${server.url}/sessions`, { headers: auth("mallory-key") });
    expect(stranger.status).toBe(403);
  }, 60_000);
});
