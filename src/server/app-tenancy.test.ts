// Keys of the key store through the HTTP app, in-process over a real (in-memory) SQLite store:
// admin routes, per-key policy, quotas (429 naming the quota, with Retry-After), GET /usage,
// session ownership with the admin's view, and the principal audit records carry.
import { describe, expect, test } from "bun:test";
import { defaultConfig, type Isol8Config } from "../config/schema";
import { parseConfig } from "../config/load";
import type { ExecutionRequest } from "../protocol/execution";
import type { ExecuteOptions } from "../protocol/isol8";
import { call, fakeEngine, KEY, makeApp } from "../../test/server-fixtures";
import { inMemoryTenancy } from "./tenancy";

type Issued = { key: string; info: { id: string; name: string; revokedAt: string | null } };

function tenantApp(config: Isol8Config = defaultConfig(), engine = fakeEngine()) {
  const tenancy = inMemoryTenancy([KEY]);
  return { ...makeApp(config, engine, { tenancy }), tenancy };
}

async function createKey(app: ReturnType<typeof tenantApp>["app"], body: object): Promise<Issued> {
  const response = await call(app, "POST", "/keys", body);
  expect(response.status).toBe(201);
  return (await response.json()) as Issued;
}

const errorOf = async (response: Response) => ((await response.json()) as { error: Record<string, unknown> }).error;

describe("admin routes", () => {
  test("an admin key creates a key (shown once, store keeps its hash), lists, rotates and revokes it", async () => {
    const { app } = tenantApp();
    const issued = await createKey(app, { name: "team-a", quotas: { maxConcurrent: 2 }, policy: { allowInstalls: false } });
    expect(issued.key).toMatch(/^isol8_[a-z0-9]{10}_/);
    const listed = (await (await call(app, "GET", "/keys")).json()) as { keys: Record<string, unknown>[] };
    expect(listed.keys).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(issued.key);
    expect(listed.keys[0]).toMatchObject({ id: issued.info.id, name: "team-a", quotas: { maxConcurrent: 2 }, policy: { allowInstalls: false }, revokedAt: null });
    expect((await call(app, "GET", "/usage", undefined, issued.key)).status).toBe(200);

    const rotated = (await (await call(app, "POST", `/keys/${issued.info.id}/rotate`)).json()) as Issued;
    expect(rotated.info.id).toBe(issued.info.id);
    expect((await call(app, "GET", "/usage", undefined, issued.key)).status).toBe(403);
    expect((await call(app, "GET", "/usage", undefined, rotated.key)).status).toBe(200);

    const revoked = await call(app, "DELETE", `/keys/${issued.info.id}`);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revokedAt: string | null }).revokedAt).not.toBeNull();
    // Revoked through this instance: refused at once here (other instances within 0.5 s).
    expect((await call(app, "GET", "/usage", undefined, rotated.key)).status).toBe(403);
    expect((await call(app, "POST", `/keys/${issued.info.id}/rotate`)).status).toBe(404);
  });

  test("a store key cannot manage keys (403), nor list every key's sessions; unknown or malformed ids are 404 / 400", async () => {
    const { app } = tenantApp();
    const { key, info } = await createKey(app, { name: "tenant" });
    for (const [method, path, body] of [
      ["GET", "/keys"],
      ["POST", "/keys", { name: "mine" }],
      ["DELETE", `/keys/${info.id}`],
      ["POST", `/keys/${info.id}/rotate`],
      ["GET", `/keys/${info.id}/usage`],
      ["GET", "/sessions?all=true"],
    ] as const) {
      const response = await call(app, method, path, body, key);
      expect(response.status).toBe(403);
      expect((await errorOf(response)).code).toBe("forbidden");
    }
    expect((await call(app, "DELETE", "/keys/zzzzzzzzzz")).status).toBe(404);
    expect((await call(app, "DELETE", "/keys/NOT-AN-ID")).status).toBe(400);
    expect((await call(app, "POST", "/keys", { name: "x", quotas: { maxConcurrent: 0 } })).status).toBe(400);
    expect((await call(app, "POST", "/keys", { name: "x", policy: { allowEverything: true } })).status).toBe(400);
  });

  test("keys shaped like store keys but unknown, or with a wrong secret, are 403 and count for the wrong-key throttle", async () => {
    const { app } = tenantApp();
    const { key } = await createKey(app, { name: "t" });
    const wrong = `${key.slice(0, -3)}abc`;
    expect((await call(app, "GET", "/usage", undefined, wrong)).status).toBe(403);
    expect((await call(app, "GET", "/usage", undefined, "isol8_zzzzzzzzzz_" + "A".repeat(43))).status).toBe(403);
    expect((await call(app, "GET", "/usage", undefined, key)).status).toBe(200);
  });
});

describe("per-key policy narrows the server's", () => {
  test("a key's limit and network modes are enforced (403 policy-denied naming the option); within them it runs", async () => {
    const config = parseConfig({ server: { allowInstalls: true } });
    const { app, engine } = tenantApp(config);
    const { key } = await createKey(app, { name: "narrow", policy: { limits: { memoryLimit: "128m" }, networks: ["none"], allowInstalls: false } });
    for (const [request, field] of [
      [{ code: "1", memoryLimit: "256m" }, "memoryLimit"],
      [{ code: "1", network: "filtered" }, "network"],
      [{ code: "1", installPackages: ["x"] }, "installPackages"],
    ] as const) {
      const response = await call(app, "POST", "/execute", { request }, key);
      expect(response.status).toBe(403);
      expect(await errorOf(response)).toMatchObject({ code: "policy-denied", field });
    }
    expect((await call(app, "POST", "/execute", { request: { code: "ok", memoryLimit: "100m" } }, key)).status).toBe(200);
    // The admin key is held to the server's policy only.
    expect((await call(app, "POST", "/execute", { request: { code: "1", installPackages: ["x"] } })).status).toBe(200);
    expect(engine.seen.map((r: ExecutionRequest) => r.code)).toEqual(["ok", "1"]);
  });
});

describe("quotas", () => {
  test("maxConcurrent: the second execution at once gets 429 quota-exceeded naming the quota, with Retry-After; another key is unaffected", async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const { app } = tenantApp(defaultConfig(), fakeEngine({ hold }));
    const { key } = await createKey(app, { name: "one", quotas: { maxConcurrent: 1 } });
    const other = await createKey(app, { name: "other", quotas: { maxConcurrent: 1 } });
    const first = call(app, "POST", "/execute", { request: { code: "1" } }, key);
    await Bun.sleep(20);
    const second = await call(app, "POST", "/execute", { request: { code: "2" } }, key);
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(await errorOf(second)).toEqual({ code: "quota-exceeded", quota: "maxConcurrent", message: 'quota "maxConcurrent" reached: 1 executions running', retryable: true });
    const usage = (await (await call(app, "GET", "/usage", undefined, key)).json()) as { usage: { concurrent: number } };
    expect(usage.usage.concurrent).toBe(1);
    const stream = call(app, "POST", "/execute/stream", { request: { code: "s" } }, key);
    expect((await stream).status).toBe(429);
    const otherRun = call(app, "POST", "/execute", { request: { code: "3" } }, other.key);
    release();
    expect((await first).status).toBe(200);
    expect((await otherRun).status).toBe(200);
    // Still works: the lease is released with the answer.
    expect((await call(app, "POST", "/execute", { request: { code: "4" } }, key)).status).toBe(200);
  });

  test("requestsPerMinute: a bucket of 3 lets 3 requests through, then 429 with the seconds until the next token", async () => {
    const { app } = tenantApp();
    const { key } = await createKey(app, { name: "rate", quotas: { requestsPerMinute: 3 } });
    for (let i = 0; i < 3; i++) expect((await call(app, "GET", "/sessions", undefined, key)).status).toBe(200);
    const refused = await call(app, "GET", "/sessions", undefined, key);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(19);
    expect((await errorOf(refused)).quota).toBe("requestsPerMinute");
    expect((await call(app, "GET", "/sessions")).status).toBe(200); // the admin key has no quota
  });

  test("cpuSecondsPerDay: executions count their CPU time; at the quota, 429 until the next UTC day", async () => {
    const engine = fakeEngine();
    const execute = engine.execute.bind(engine);
    engine.execute = async (request: ExecutionRequest, options?: ExecuteOptions) => {
      const result = await execute(request, options);
      return { ...result, resourceUsage: { ...result.resourceUsage!, cpuTimeMs: 1_500 } };
    };
    const { app } = tenantApp(defaultConfig(), engine);
    const { key } = await createKey(app, { name: "cpu", quotas: { cpuSecondsPerDay: 2 } });
    expect((await call(app, "POST", "/execute", { request: { code: "1" } }, key)).status).toBe(200);
    expect((await call(app, "POST", "/execute", { request: { code: "2" } }, key)).status).toBe(200); // 1.5 s used < 2 s
    const refused = await call(app, "POST", "/execute", { request: { code: "3" } }, key);
    expect(refused.status).toBe(429);
    expect((await errorOf(refused)).quota).toBe("cpuSecondsPerDay");
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(86_400);
    const usage = (await (await call(app, "GET", "/usage", undefined, key)).json()) as { usage: { cpuSeconds: number; executions: number }; quotas: object };
    expect(usage.usage).toMatchObject({ cpuSeconds: 3, executions: 2 });
    expect(usage.quotas).toEqual({ cpuSecondsPerDay: 2 });
  });

  test("maxSessions: the third session of a key gets 429 naming the quota; deleting one frees it", async () => {
    const { app } = tenantApp(parseConfig({ server: { maxSessions: 10 } }));
    const { key } = await createKey(app, { name: "s", quotas: { maxSessions: 2 } });
    expect((await call(app, "POST", "/sessions", { id: "a" }, key)).status).toBe(201);
    expect((await call(app, "POST", "/sessions", { id: "b" }, key)).status).toBe(201);
    const third = await call(app, "POST", "/sessions", { id: "c" }, key);
    expect(third.status).toBe(429);
    expect((await errorOf(third)).quota).toBe("maxSessions");
    expect((await call(app, "POST", "/sessions", { id: "a" }, key)).status).toBe(200); // an existing one is no new session
    expect((await call(app, "DELETE", "/session/a", undefined, key)).status).toBe(200);
    expect((await call(app, "POST", "/sessions", { id: "c" }, key)).status).toBe(201);
  });
});

describe("ownership and audit", () => {
  test("a store key's sessions are its own; the admin lists every key's with ?all=true and deletes one by naming its owner", async () => {
    const { app } = tenantApp();
    const alice = await createKey(app, { name: "alice" });
    const bob = await createKey(app, { name: "bob" });
    expect((await call(app, "POST", "/execute", { request: { code: "1" }, sessionId: "s" }, alice.key)).status).toBe(200);
    expect((await call(app, "GET", "/file?sessionId=s&path=/x", undefined, bob.key)).status).toBe(404);
    expect((await call(app, "DELETE", "/session/s", undefined, bob.key)).status).toBe(404);
    const mine = (await (await call(app, "GET", "/sessions", undefined, bob.key)).json()) as { sessions: unknown[] };
    expect(mine.sessions).toEqual([]);
    // The admin's own listing is its own; ?all=true shows every key's, with owners.
    expect(((await (await call(app, "GET", "/sessions")).json()) as { sessions: unknown[] }).sessions).toEqual([]);
    const all = (await (await call(app, "GET", "/sessions?all=true")).json()) as { sessions: { id: string; owner: string }[] };
    expect(all.sessions.map((s) => [s.id, s.owner])).toEqual([["s", `key:${alice.info.id}`]]);
    // Bob naming an owner changes nothing (only admins may); the admin deletes Alice's.
    expect((await call(app, "DELETE", `/session/s?owner=key:${alice.info.id}`, undefined, bob.key)).status).toBe(404);
    expect((await call(app, "DELETE", `/session/s?owner=key:${alice.info.id}`)).status).toBe(200);
    expect(((await (await call(app, "GET", "/sessions?all=true")).json()) as { sessions: unknown[] }).sessions).toEqual([]);
  });

  test("audit records and request events carry the key's public id (key:<id>), never the key", async () => {
    const events: { principal: string | null }[] = [];
    const tenancy = inMemoryTenancy([KEY]);
    const { app, engine } = makeApp(defaultConfig(), fakeEngine(), { tenancy, observe: (event) => events.push(event) });
    const { key, info } = (await (await call(app, "POST", "/keys", { name: "audited" })).json()) as Issued;
    expect((await call(app, "POST", "/execute", { request: { code: "1" } }, key)).status).toBe(200);
    expect(engine.contexts.at(-1)?.audit?.principal).toBe(`key:${info.id}`);
    expect(events.at(-1)?.principal).toBe(`key:${info.id}`);
    expect(JSON.stringify(engine.contexts)).not.toContain(key);
    expect(JSON.stringify(events)).not.toContain(key);
  });
});
