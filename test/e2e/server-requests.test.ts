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
