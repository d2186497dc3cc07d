// Output-file limits clamped by a running server (docs/SECURITY.md I10, F15, F16): with
// server.limits lower than the defaults, a request asking for more (in `request` or in the
// `options` alias, collected or streamed) is a 403 naming the field before anything runs; a
// request at the limits runs and gets its files back; a request that names no limit runs
// within them too.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serverProcesses, type StartedServer } from "./server-process";

const KEY = "limits-e2e-key";
const MiB = 1024 * 1024;
const servers = serverProcesses("isol8-limits-");
let server: StartedServer;

const LIMITS = { maxOutputFileSize: "1m", maxOutputFiles: 2, maxOutputFilesTotal: "1536k" };

beforeAll(async () => {
  server = await servers.start({ keys: [KEY], config: { server: { limits: LIMITS } } });
}, 60_000);
afterAll(() => servers.cleanup());

const post = (path: string, body: object) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** Python writing files of the given sizes into /sandbox, then printing "wrote". */
const writes = (sizes: Record<string, number>) =>
  [...Object.entries(sizes).map(([name, size]) => `open('/sandbox/${name}', 'wb').write(b'x' * ${size})`), "print('wrote')"].join("\n");

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; field?: string }; stdout?: string; files?: Record<string, string>; missingFiles?: string[]; fileErrors?: Record<string, string> };
}
const answer = async (response: Response): Promise<Answer> => ({ status: response.status, body: (await response.json()) as Answer["body"] });

describe("isol8 serve: output-file limits above server.limits are refused", () => {
  const over: [string, object, string, string][] = [
    ["request.maxOutputFileSize 2m", { request: { code: writes({}), maxOutputFileSize: "2m" } }, "maxOutputFileSize", "2m is above this server's maximum of 1m"],
    ["request.maxOutputFileSize one byte over, in bytes", { request: { code: writes({}), maxOutputFileSize: MiB + 1 } }, "maxOutputFileSize", `${MiB + 1} is above this server's maximum of 1m`],
    ["request.maxOutputFiles 3", { request: { code: writes({}), maxOutputFiles: 3 } }, "maxOutputFiles", "3 is above this server's maximum of 2"],
    ["request.maxOutputFilesTotal 2m", { request: { code: writes({}), maxOutputFilesTotal: "2m" } }, "maxOutputFilesTotal", "2m is above this server's maximum of 1536k"],
    ["options.maxOutputFileSize 2m (the alias)", { request: { code: writes({}) }, options: { maxOutputFileSize: "2m" } }, "maxOutputFileSize", "2m is above this server's maximum of 1m"],
  ];

  test.each(over)("%s → 403 policy-denied naming the field, on /execute and /execute/stream", async (_, body, field, why) => {
    for (const path of ["/execute", "/execute/stream"]) {
      const { status, body: answered } = await answer(await post(path, body));
      expect([path, status]).toEqual([path, 403]);
      expect(answered.error).toEqual({ code: "policy-denied", field, message: `option "${field}" is not allowed: ${why}` });
    }
  });

  test("still works: a request at every limit runs and gets its files back whole (1 MiB + 512 KiB = 1536 KiB, 2 files)", async () => {
    const request = { code: writes({ a: MiB, b: 512 * 1024 }), outputPaths: ["a", "b"], ...LIMITS };
    const { status, body } = await answer(await post("/execute", { request }));
    expect(status).toBe(200);
    expect(body.stdout).toBe("wrote\n");
    expect(Object.keys(body.files ?? {}).sort()).toEqual(["a", "b"]);
    expect(Buffer.from(body.files!.a!, "base64").length).toBe(MiB);
    expect(Buffer.from(body.files!.b!, "base64").length).toBe(512 * 1024);
    expect(body.missingFiles ?? []).toEqual([]);
  }, 60_000);

  test("a request that names no limit runs within server.limits: a file over 1m is not read back (fileErrors names the limit), one within is", async () => {
    const { status, body } = await answer(await post("/execute", { request: { code: writes({ big: 1.5 * MiB, small: 1000 }), outputPaths: ["big", "small"] } }));
    expect(status).toBe(200);
    expect(Object.keys(body.files ?? {})).toEqual(["small"]);
    expect(body.missingFiles).toEqual(["big"]);
    expect(body.fileErrors?.big).toContain("maxOutputFileSize");
    const three = await answer(await post("/execute", { request: { code: writes({}), outputPaths: ["a", "b", "c"] } }));
    expect(three.status).toBe(400);
    expect(three.body.error?.message).toContain("over the maxOutputFiles limit of 2");
  }, 60_000);
});
