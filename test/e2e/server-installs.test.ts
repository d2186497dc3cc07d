// Installs requested by a server's clients (docs/SECURITY.md D24), against `isol8 serve`: under
// the default config `installPackages` is a 403 naming the option and the key that allows it,
// on every route that executes, and the package index never hears of it; with
// `server.allowInstalls: true` the same request installs from the index and the program
// imports the package.
//
// SAFETY: the index is a server this file starts on 127.0.0.1 (package-index.ts); the
// servers' static host table points the python image's registry host at it.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { type PackageIndex, startPackageIndex } from "./package-index";
import { serverProcesses, type StartedServer } from "./server-process";

const KEY = "installs-e2e-key";
const servers = serverProcesses("isol8-installs-");
let pkgs: PackageIndex;
/** The default server policy, with the registry pointed at the index all the same. */
let refusing: StartedServer;
let allowing: StartedServer;

beforeAll(async () => {
  pkgs = await startPackageIndex();
  [refusing, allowing] = await Promise.all([
    servers.start({ keys: [KEY], config: { network: pkgs.network } }),
    servers.start({ keys: [KEY], config: { network: pkgs.network, server: { allowInstalls: true } } }),
  ]);
}, 60_000);
beforeEach(() => pkgs.index.reset());
afterAll(async () => {
  servers.cleanup();
  await pkgs?.index.close();
});

const post = (server: StartedServer, path: string, body: object) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

const installing = () => ({
  runtime: "python",
  code: "import tinypkg; print(tinypkg.VALUE)",
  installPackages: ["tinypkg"],
  env: pkgs.pipEnv,
});

describe("isol8 serve: installs by clients", () => {
  test("default config: installPackages → 403 policy-denied naming installPackages and server.allowInstalls, on /execute, /execute/stream and a session; the index hears nothing", async () => {
    const session = await post(refusing, "/sessions", { id: "gaps-installs" });
    expect(session.status).toBe(201);
    for (const [path, body] of [
      ["/execute", { request: installing() }],
      ["/execute/stream", { request: installing() }],
      ["/execute (session)", { request: installing(), sessionId: "gaps-installs" }],
    ] as const) {
      const response = await post(refusing, path.split(" ")[0]!, body);
      expect([path, response.status]).toEqual([path, 403]);
      expect(((await response.json()) as { error: unknown }).error).toEqual({
        code: "policy-denied",
        field: "installPackages",
        message: 'option "installPackages" is not allowed: installs are disabled on this server (server.allowInstalls)',
      });
    }
    expect(pkgs.index.connections).toBe(0);
  }, 60_000);

  test("still works: the default server runs the same program without installPackages, and with an empty list", async () => {
    for (const installPackages of [undefined, []]) {
      const response = await post(refusing, "/execute", { request: { code: "print('no install')", ...(installPackages ? { installPackages } : {}) } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { stdout: string }).stdout).toBe("no install\n");
    }
    expect(pkgs.index.connections).toBe(0);
  }, 60_000);

  test("server.allowInstalls: the same request installs tinypkg from the index through the registry host, and the program imports it", async () => {
    const response = await post(allowing, "/execute", { request: installing() });
    expect(response.status).toBe(200);
    const result = (await response.json()) as { stdout: string; stderr: string; exitCode: number };
    expect(result).toMatchObject({ stdout: `${pkgs.value}\n`, exitCode: 0 });
    expect(pkgs.paths()).toEqual(["/simple/tinypkg/", expect.stringMatching(/^\/files\/tinypkg-.*\.whl$/)]);
    expect(pkgs.index.requests.every((request) => request.host === `${pkgs.registryHost}:${pkgs.index.port}`)).toBe(true);
  }, 90_000);
});
