// What a request may hold and what the client hears back: body shape and caps (E8), secrets
// (G6), URL decoding, and file failures mapped to 4xx, never a retryable 5xx (F-series).
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load";
import { defaultConfig } from "../config/schema";
import { FileError, type FileErrorReason, SandboxError } from "../errors";
import { call, fakeEngine, makeApp } from "../../test/server-fixtures";

describe("malformed percent-encoding in the path → 400, no stack", () => {
  test.each(["%ZZ", "%", "%E0%A4%A", "%C3%28", "abc%2", "%FF"])("DELETE /session/%s", async (segment) => {
    const { app, logged } = makeApp();
    const response = await call(app, "DELETE", `/session/${segment}`);
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain("malformed percent-encoding");
    expect(text).not.toContain("URIError");
    expect(text).not.toContain("    at ");
    expect(logged.join("\n")).not.toContain("unexpected error");
  });

  test("a well-formed but invalid id is 400 naming it; a valid unknown one 404", async () => {
    const { app } = makeApp();
    const bad = await call(app, "DELETE", "/session/a%20b");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toStartWith("session id: ");
    expect((await call(app, "DELETE", "/session/a%2Db")).status).toBe(404);
  });
});

describe("the body's shape is checked before it is parsed", () => {
  const envBody = (n: number) => `{"request":{"code":"1","env":{${Array.from({ length: n }, (_, i) => `"K${i}":""`).join(",")}}}}`;

  test("a million env keys → 400 naming the value cap; the engine sees nothing", async () => {
    const { app, engine } = makeApp();
    const response = await call(app, "POST", "/execute", envBody(1_000_000));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("more than 100000 JSON values");
    expect(engine.seen).toHaveLength(0);
  });

  test("1001 env keys → 400 naming request.env; 1000 pass", async () => {
    const { app } = makeApp();
    const over = await call(app, "POST", "/execute", envBody(1001));
    expect(over.status).toBe(400);
    expect(((await over.json()) as { error: { message: string } }).error.message).toContain("request.env: at most 1000 entries");
    expect((await call(app, "POST", "/execute", envBody(1000))).status).toBe(200);
  });

  test("nesting deeper than 64 → 400", async () => {
    const { app } = makeApp();
    const deep = `{"request":{"code":"1","metadata":{"a":${"[".repeat(100)}${"]".repeat(100)}}}}`;
    const response = await call(app, "POST", "/execute", deep);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("nested more than 64 levels deep");
  });
});

describe("secrets shorter than 4 bytes → 400 naming the key, never the value", () => {
  test.each([{ B: "the" }, { A: "1" }])("%p", async (secrets) => {
    const { app, engine } = makeApp();
    const response = await call(app, "POST", "/execute", { request: { code: "1", secrets } });
    expect(response.status).toBe(400);
    const answer = ((await response.json()) as { error: { message: string; field?: string } }).error;
    const [name, value] = Object.entries(secrets)[0]!;
    expect(answer.message).toContain(`request.secrets.${name}: must be at least 4 bytes`);
    expect(answer.message).not.toContain(`"${value}"`);
    expect(engine.seen).toHaveLength(0);
  });

  test("still works: a 4-byte secret", async () => {
    const { app } = makeApp();
    expect((await call(app, "POST", "/execute", { request: { code: "1", secrets: { B: "thes" } } })).status).toBe(200);
  });
});

describe("file failures are the client's: 4xx, never a retryable 5xx", () => {
  const cases: [FileErrorReason, number][] = [
    ["not-found", 404],
    ["outside-sandbox", 400],
    ["not-regular-file", 400],
    ["symlink", 409],
    ["permission-denied" as FileErrorReason, 403],
    ["too-large", 413],
  ];

  function appThrowing(error: Error) {
    const session = fakeEngine();
    session.getFile = async () => {
      throw error;
    };
    session.putFile = async () => {
      throw error;
    };
    return makeApp(defaultConfig(), fakeEngine(), { sessionEngine: () => session });
  }

  for (const [reason, status] of cases) {
    test(`FileError "${reason}" → ${status} (GET and POST /file)`, async () => {
      const { app } = appThrowing(new FileError(reason, `Cannot use "/sandbox/x": ${reason}`));
      await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "s" });
      const read = await call(app, "GET", "/file?sessionId=s&path=/sandbox/x");
      const write = await call(app, "POST", "/file", { sessionId: "s", path: "/sandbox/x", content: "QUJD" });
      for (const response of [read, write]) {
        expect(response.status).toBe(status);
        const answer = ((await response.json()) as { error: { code: string; reason: string; retryable?: boolean } }).error;
        expect(answer.code).toBe("file-refused");
        expect(answer.reason).toBe(reason);
        expect(answer.retryable).toBeUndefined();
      }
    });
  }

  test("twin: a sandbox that really failed is still 503 retryable", async () => {
    const { app } = appThrowing(new SandboxError("Cannot read: the container stopped"));
    await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "s" });
    const response = await call(app, "GET", "/file?sessionId=s&path=/sandbox/x");
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string; retryable: boolean } }).error).toMatchObject({ code: "sandbox-failed", retryable: true });
  });

  test("a path longer than 4096 characters or a missing path → 400 naming it", async () => {
    const { app } = makeApp();
    await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "s" });
    const long = await call(app, "POST", "/file", { sessionId: "s", path: `/sandbox/${"a".repeat(4100)}`, content: "QUJD" });
    expect(long.status).toBe(400);
    expect(((await long.json()) as { error: { message: string } }).error.message).toStartWith("path: ");
    const missing = await call(app, "GET", "/file?sessionId=s");
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toStartWith("path: ");
  });
});

describe("uploads up to maxFileSize", () => {
  test.each([6_000_000, 9_900_000])("%d bytes of base64 content are accepted and read back identical", async (size) => {
    const { app } = makeApp();
    await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "s" });
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24;
    const content = bytes.toString("base64");
    expect((await call(app, "POST", "/file", { sessionId: "s", path: "/sandbox/big.bin", content })).status).toBe(200);
    const read = await call(app, "GET", "/file?sessionId=s&path=/sandbox/big.bin");
    expect(((await read.json()) as { content: string }).content === content).toBe(true);
  });

  test("over maxFileSize by its decoded length → 413; content that is not base64 → 400", async () => {
    const { app } = makeApp(parseConfig({ server: { maxFileSize: "1k" } }));
    await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "s" });
    const exactly = Buffer.alloc(1024).toString("base64");
    expect((await call(app, "POST", "/file", { sessionId: "s", path: "/sandbox/a", content: exactly })).status).toBe(200);
    const over = Buffer.alloc(1025).toString("base64");
    expect((await call(app, "POST", "/file", { sessionId: "s", path: "/sandbox/a", content: over })).status).toBe(413);
    const bad = await call(app, "POST", "/file", { sessionId: "s", path: "/sandbox/a", content: "not base64!" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe("content: must be base64");
  });
});
