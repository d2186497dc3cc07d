// What a request may hold (E8, G6) and how malformed URLs are answered, against `isol8 serve`
// and `isol8 run`: shape bombs are refused before parsing with bounded memory, large legitimate
// bodies still work, secrets too short to mask safely are refused naming their key.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runBinary } from "../helpers";
import { memoryOf, serverProcesses, type StartedServer } from "./server-process";

const KEY = "requests-e2e-key";
const servers = serverProcesses("isol8-requests-");
let server: StartedServer;

const post = (path: string, body: string | object) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

beforeAll(async () => {
  server = await servers.start({ keys: [KEY] });
  // Warm up: the first execution's memory is not the body's.
  expect((await post("/execute", { request: { code: "print(1)" } })).status).toBe(200);
}, 60_000);
afterAll(() => servers.cleanup());

describe("isol8 serve: shape bombs", () => {
  test("a 16 MB body (under the 16 MiB maxBodySize) of 1,000,000 env keys → 400 naming the cap, before parsing; server memory grows by a small factor of the body", async () => {
    // "E0000000":"xx", …: 16.0 MB, under the 16 MiB maxBodySize.
    const entries = Array.from({ length: 1_000_000 }, (_, i) => `"E${String(i).padStart(7, "0")}":"xx"`).join(",");
    const body = `{"request":{"code":"print(1)","env":{${entries}}}}`;
    expect(body.length).toBeGreaterThan(15_800_000);
    expect(body.length).toBeLessThan(16 * 1024 * 1024);
    const pid = server.child.pid!;
    const before = memoryOf(pid);
    const response = await post("/execute", body);
    const after = memoryOf(pid);
    const answer = ((await response.json()) as { error: { message: string; retryable?: boolean } }).error;
    const growth = after.peak - before.peak;
    console.log(
      `${mb(body.length)} body of 1,000,000 env keys → ${response.status}; server peak RSS ${mb(before.peak)} → ${mb(after.peak)} ` +
        `(+${mb(growth)}, ${(growth / body.length).toFixed(2)}× the body)`,
    );
    expect(response.status).toBe(400);
    expect(answer.message).toContain("more than 100000 JSON values");
    expect(answer.retryable).toBeUndefined();
    expect(growth).toBeLessThan(4 * body.length);
  }, 60_000);

  test("1001 env entries → 400 naming request.env; a 3-byte secret → 400 naming its key, never its value", async () => {
    const env = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`K${i}`, "v"]));
    const tooMany = await post("/execute", { request: { code: "print(1)", env } });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { error: { message: string } }).error.message).toContain("request.env: at most 1000 entries");
    const short = await post("/execute", { request: { code: "print(1)", secrets: { B: "zq9" } } });
    expect(short.status).toBe(400);
    const text = await short.text();
    expect(text).toContain("request.secrets.B: must be at least 4 bytes");
    expect(text).not.toContain("zq9");
  }, 30_000);

  test("still works: a body with 10 MB of files, and a 4-byte secret that masks only itself", async () => {
    const files: Record<string, { base64: string }> = {};
    for (let i = 0; i < 4; i++) files[`part${i}.bin`] = { base64: Buffer.alloc(2_500_000, i + 1).toString("base64") };
    const body = JSON.stringify({ request: { code: "import os; print(sum(os.path.getsize(f'/sandbox/part{i}.bin') for i in range(4)))", files } });
    const pid = server.child.pid!;
    const before = memoryOf(pid);
    const response = await post("/execute", body);
    const after = memoryOf(pid);
    console.log(`${mb(body.length)} body with 10 MB of files → ${response.status}; server peak RSS ${mb(before.peak)} → ${mb(after.peak)}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { stdout: string }).stdout).toBe("10000000\n");
    const masked = await post("/execute", { request: { code: "import os; print('other', 'the', os.environ['B'])", secrets: { B: "thes" } } });
    expect(((await masked.json()) as { stdout: string }).stdout).toBe("other the ***\n");
  }, 60_000);
});

describe("isol8 serve: malformed URLs", () => {
  test.each(["%ZZ", "%", "%E0%A4%A", "%C3%28", "%FF"])("DELETE /session/%s → 400, no stack in the answer or the log", async (segment) => {
    const response = await fetch(`${server.url}/session/${segment}`, { method: "DELETE", headers: { authorization: `Bearer ${KEY}` } });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain("malformed percent-encoding");
    expect(text).not.toContain(" at ");
    expect(server.stderr()).not.toContain("unexpected error");
    expect(server.stderr()).not.toContain("URIError");
  });

  const del = (segment: string) => fetch(`${server.url}/session/${segment}`, { method: "DELETE", headers: { authorization: `Bearer ${KEY}` } });
  const errorOf = async (response: Response) => ((await response.json()) as { error: { message: string } }).error.message;

  test("twin: a well-formed unknown id → 404 naming it (also percent-encoded); a well-formed invalid one → 400 naming the session id", async () => {
    for (const [segment, id] of [
      ["gaps-unknown-1", "gaps-unknown-1"],
      ["gaps%2Dunknown%2E2", "gaps-unknown.2"],
      ["%67aps_unknown_3", "gaps_unknown_3"],
    ]) {
      const response = await del(segment!);
      expect([segment, response.status]).toEqual([segment, 404]);
      expect(await errorOf(response)).toBe(`session "${id}" not found`);
    }
    for (const segment of ["a%20b", "a%2Fb", "%C3%A9t%C3%A9", "x".repeat(129)]) {
      const response = await del(segment);
      expect([segment, response.status]).toEqual([segment, 400]);
      expect(await errorOf(response)).toStartWith("session id: ");
    }
    expect(server.stderr()).not.toContain("unexpected error");
  });

  test("twin: a valid id round trip: created, used, deleted by its percent-encoded spelling, then 404", async () => {
    const id = "gaps-e14.round_trip";
    const created = await post("/sessions", { id });
    expect(created.status).toBe(201);
    const ran = await post("/execute", { request: { code: "open('/sandbox/kept', 'w').write('1'); print('in session')" }, sessionId: id });
    expect(((await ran.json()) as { stdout: string }).stdout).toBe("in session\n");
    const listed = (await (await fetch(`${server.url}/sessions`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as { sessions: { id: string }[] };
    expect(listed.sessions.map((s) => s.id)).toContain(id);
    const deleted = await del("gaps%2De14%2Eround%5Ftrip");
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ deleted: id });
    const again = await del(id);
    expect(again.status).toBe(404);
    expect(await errorOf(again)).toBe(`session "${id}" not found`);
  }, 60_000);
});

describe("isol8 run: secrets too short to mask safely", () => {
  test("--secret B=zq9 → exit 2 naming B, never the value, locally and through a server; B=zq9x runs", () => {
    const local = runBinary(["run", "--secret", "B=zq9", "-e", "print(1)"]);
    const remote = runBinary(["run", "--host", server.url, "--key", KEY, "--secret", "B=zq9", "-e", "print(1)"]);
    for (const r of [local, remote]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("B: must be at least 4 bytes");
      expect(r.stderr).not.toContain("zq9");
    }
    // Locally the engine's refusal names the flag; the server's 400 names its field.
    expect(local.stderr).toContain("Cannot use --secret: B:");
    expect(remote.stderr).toContain("secrets.B:");
    const ok = runBinary(["run", "--secret", "B=zq9x", "-e", "import os; print(os.environ['B'], 'zq9')"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("*** zq9\n");
  }, 120_000);
});
