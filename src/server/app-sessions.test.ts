// Sessions belong to the key that created them (E6, F11): another key can neither use, read,
// write, list, stream in, clean up nor delete them, and learns nothing of their existence.
import { describe, expect, test } from "bun:test";
import { defaultConfig } from "../config/schema";
import { call, fakeEngine, makeApp } from "../../test/server-fixtures";

const A = "key-of-alice";
const B = "key-of-bob";
const content = Buffer.from("alice's data").toString("base64");

async function withAliceSession() {
  const made = makeApp(defaultConfig(), fakeEngine(), { keys: [A, B] });
  const { app } = made;
  expect((await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "s1" }, A)).status).toBe(200);
  expect((await call(app, "POST", "/file", { sessionId: "s1", path: "/sandbox/secret.txt", content }, A)).status).toBe(200);
  return made;
}

const listed = async (app: Awaited<ReturnType<typeof withAliceSession>>["app"], key: string) =>
  ((await (await call(app, "GET", "/sessions", undefined, key)).json()) as { sessions: { id: string }[] }).sessions.map((s) => s.id);

describe("sessions per key", () => {
  test("another key gets 404 for reading, writing and deleting; its listing is empty", async () => {
    const { app } = await withAliceSession();
    const read = await call(app, "GET", "/file?sessionId=s1&path=/sandbox/secret.txt", undefined, B);
    expect(read.status).toBe(404);
    expect(await read.text()).not.toContain("alice");
    expect((await call(app, "POST", "/file", { sessionId: "s1", path: "/sandbox/secret.txt", content: "QUJD" }, B)).status).toBe(404);
    expect((await call(app, "DELETE", "/session/s1", undefined, B)).status).toBe(404);
    expect(await listed(app, B)).toEqual([]);
    // Alice's session and file are untouched.
    const mine = await call(app, "GET", "/file?sessionId=s1&path=/sandbox/secret.txt", undefined, A);
    expect(((await mine.json()) as { content: string }).content).toBe(content);
    expect(await listed(app, A)).toEqual(["s1"]);
  });

  test("the same id under another key is another session (collected and streamed)", async () => {
    const { app, sessions } = await withAliceSession();
    expect((await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "s1" }, B)).status).toBe(200);
    const stream = await call(app, "POST", "/execute/stream", { request: { code: "1" }, sessionId: "s1" }, B);
    await stream.text();
    const all = sessions.list();
    expect(all).toHaveLength(2);
    expect(all[0]!.engine).not.toBe(all[1]!.engine);
    // Bob's s1 has no file of Alice's.
    expect((await call(app, "GET", "/file?sessionId=s1&path=/sandbox/secret.txt", undefined, B)).status).toBe(404);
    expect(await listed(app, B)).toEqual(["s1"]);
    expect(await listed(app, A)).toEqual(["s1"]);
  });

  test("/cleanup removes the caller's idle sessions only; each key deletes its own", async () => {
    const { app } = await withAliceSession();
    await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "b1" }, B);
    const cleaned = await call(app, "POST", "/cleanup", {}, B);
    expect(((await cleaned.json()) as { sessions: number }).sessions).toBe(1);
    expect(await listed(app, A)).toEqual(["s1"]);
    expect(await listed(app, B)).toEqual([]);
    expect((await call(app, "DELETE", "/session/s1", undefined, A)).status).toBe(200);
    expect(await listed(app, A)).toEqual([]);
  });
});

describe("POST /sessions", () => {
  test("creates a session of the caller (201, a random id by default); the same id again is 200, unchanged", async () => {
    const { app } = makeApp(defaultConfig(), fakeEngine(), { keys: [A, B] });
    const made = await call(app, "POST", "/sessions", {}, A);
    expect(made.status).toBe(201);
    const { id, created } = (await made.json()) as { id: string; created: boolean };
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created).toBe(true);
    const named = await call(app, "POST", "/sessions", { id: "s2", runtime: "node" }, A);
    expect(named.status).toBe(201);
    expect(await named.json()).toEqual({ id: "s2", runtime: "node", created: true });
    const again = await call(app, "POST", "/sessions", { id: "s2" }, A);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { created: boolean }).created).toBe(false);
    expect(await listed(app, A)).toEqual([id, "s2"]);
    expect(await listed(app, B)).toEqual([]);
  });

  test("a created session takes files before any execution", async () => {
    const { app } = makeApp(defaultConfig(), fakeEngine(), { keys: [A] });
    expect((await call(app, "POST", "/sessions", { id: "s3" }, A)).status).toBe(201);
    expect((await call(app, "POST", "/file", { sessionId: "s3", path: "/sandbox/a.txt", content }, A)).status).toBe(200);
    const read = await call(app, "GET", "/file?sessionId=s3&path=/sandbox/a.txt", undefined, A);
    expect(((await read.json()) as { content: string }).content).toBe(content);
  });

  test("a bad id or runtime is 400; an empty body is a new session", async () => {
    const { app } = makeApp(defaultConfig(), fakeEngine(), { keys: [A] });
    expect((await call(app, "POST", "/sessions", { id: "bad id!" }, A)).status).toBe(400);
    expect((await call(app, "POST", "/sessions", { runtime: "cobol" }, A)).status).toBe(400);
    expect((await call(app, "POST", "/sessions", undefined, A)).status).toBe(201);
  });

  test("beyond maxSessions: 429", async () => {
    const { app } = makeApp(defaultConfig(), fakeEngine(), { keys: [A] });
    for (const id of ["a", "b"]) expect((await call(app, "POST", "/sessions", { id }, A)).status).toBe(201);
    expect((await call(app, "POST", "/sessions", { id: "c" }, A)).status).toBe(429);
  });
});
