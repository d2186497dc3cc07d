// Real-Docker tests of package installs through the filtered network:
// npm and bun from the npm registry, pip from a tiny index this file serves, the registries
// reachable by the install step only (the program after it gets 403), names refused before
// any container work, and a stalled install ended by the execution's timeout.
//
// SAFETY: the npm registry is the one outside host these tests reach, and only through the
// proxy; its name is read from npm's own configuration, never written here. Everything
// else is a server this file starts on 127.0.0.1 (the python image's registry host, read
// from the image's label, is pointed at it by network.hosts: no lookup, no outside traffic).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import { RequestError } from "../../src/errors";
import { TEST_IMAGES, testEngine } from "../helpers";
import { countingDocker, rejection } from "./execution-helpers";
import { dockerWithoutBakedImages, type HttpSink, startHttpSink, startStallServer, type StallServer } from "./network-sinks";
import { ownedContainers } from "./owned-containers";
import { buildTinyWheel, simpleIndexPage } from "./tiny-wheel";

const wheel = buildTinyWheel("tinypkg from the test index");
let index: HttpSink;
let stall: StallServer;
/** Default network rules (ports 80/443, no internal ranges): the npm registry through the proxy. */
let registryEngine: DockerIsol8;
/** pkgs.test (the index) and stall.test (never answers) on 127.0.0.1; counts container creations. */
let indexEngine: DockerIsol8;
let created: () => number;
/** The python image's first registry host (from its label) pointed at `index`, on index's port. */
let labelledEngine: DockerIsol8;
let registryHost: string;
const engines = () => [registryEngine, indexEngine, labelledEngine].filter(Boolean);

beforeAll(async () => {
  index = await startHttpSink("127.0.0.1", (req, res) => {
    if (req.url === "/simple/tinypkg/") {
      res.setHeader("content-type", "text/html");
      res.end(simpleIndexPage(wheel, "/files"));
      return true;
    }
    if (req.url === `/files/${wheel.fileName}`) {
      res.setHeader("content-type", "application/octet-stream");
      res.end(wheel.bytes);
      return true;
    }
    res.statusCode = 404;
    res.end("not here");
    return true;
  });
  stall = await startStallServer("127.0.0.1");
  // Hide images that earlier runs baked with these packages: the install itself is under test.
  registryEngine = testEngine({ docker: dockerWithoutBakedImages() });
  const counting = countingDocker();
  created = counting.created;
  indexEngine = testEngine({
    docker: dockerWithoutBakedImages(counting.docker),
    config: {
      network: {
        hosts: { "pkgs.test": "127.0.0.1", "stall.test": "127.0.0.1" },
        allowedCidrs: ["127.0.0.1/32"],
        allowedPorts: [index.port, stall.port],
      },
    },
  });
  const labelled = (await indexEngine.imageManager.registryHosts(TEST_IMAGES.runtime("python")))[0];
  if (!labelled) throw new Error(`${TEST_IMAGES.runtime("python")} has no registry-hosts label`);
  registryHost = labelled;
  labelledEngine = testEngine({
    docker: dockerWithoutBakedImages(),
    config: { network: { hosts: { [registryHost]: "127.0.0.1" }, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [index.port] } },
  });
});

afterAll(async () => {
  await Promise.all(engines().map((e) => e.stop()));
  for (const e of engines()) expect(await ownedContainers(e)).toEqual([]);
  await Promise.all([index, stall].filter(Boolean).map((s) => s.close()));
});

/** The npm registry's host as the node image's own npm is configured (no network needed). */
async function npmRegistryHost(): Promise<string> {
  const r = await registryEngine.execute({
    runtime: "node",
    code: 'import { execFileSync } from "node:child_process"; console.log(execFileSync("npm", ["config", "get", "registry"]).toString().trim());',
  });
  expect(r.exitCode).toBe(0);
  return new URL(r.stdout.trim()).hostname;
}

const IMPORT_IS_NUMBER = "import n from 'is-number'; console.log(n(5))";

describe("installs from the npm registry through the proxy", () => {
  let registry: string;
  beforeAll(async () => {
    registry = await npmRegistryHost();
  });

  test("npm (node runtime, network left unset: the install goes through the proxy) installs is-number; the program imports it", async () => {
    const r = await registryEngine.execute({ runtime: "node", code: IMPORT_IS_NUMBER, installPackages: ["is-number"], logNetwork: true, timeoutMs: 110_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("true\n");
    expect(r.exitCode).toBe(0);
    // The packages came through the proxy, from the registry npm is configured with.
    const tunnels = (r.networkLogs ?? []).filter((e) => e.method === "CONNECT" && e.host === registry && e.action === "ALLOW");
    expect(tunnels.length).toBeGreaterThan(0);
    expect(tunnels.every((e) => e.port === 443 && e.path === null && e.status === 200)).toBe(true);
  }, 120_000);

  test("bun (explicit filtered network with no allow list: the install step gets the registry) installs is-number", async () => {
    const r = await registryEngine.execute({
      runtime: "bun",
      code: IMPORT_IS_NUMBER,
      installPackages: ["is-number"],
      network: "filtered",
      logNetwork: true,
      timeoutMs: 110_000,
    });
    expect(r.stdout).toBe("true\n");
    expect(r.exitCode).toBe(0);
    expect((r.networkLogs ?? []).some((e) => e.method === "CONNECT" && e.host === registry && e.action === "ALLOW")).toBe(true);
  }, 120_000);

  test("still blocked during an install: the program's own request to another host is refused", async () => {
    // Node's fetch tunnels through CONNECT even for http://; a refused tunnel fails the fetch.
    const r = await registryEngine.execute({
      runtime: "node",
      code: `${IMPORT_IS_NUMBER}
const answer = await fetch("http://elsewhere.test/").then((r) => \`LEAK \${r.status}\`, () => "refused");
console.log(answer);`,
      installPackages: ["is-number"],
      logNetwork: true,
      timeoutMs: 110_000,
    });
    expect(r.stdout).toBe("true\nrefused\n");
    const blocked = (r.networkLogs ?? []).filter((e) => e.action === "BLOCK");
    expect(blocked.map(({ host, status }) => ({ host, status }))).toEqual([{ host: "elsewhere.test", status: 403 }]);
  }, 120_000);
});

describe("pip install from a package index served by the test", () => {
  /** pip reads its index from the environment; plain http needs the host marked trusted. */
  const pipEnv = (host: string, port: number) => ({
    PIP_INDEX_URL: `http://${host}:${port}/simple`,
    PIP_TRUSTED_HOST: host,
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
  });

  test("the wheel is fetched through the proxy and the program imports tinypkg", async () => {
    index.reset();
    const r = await indexEngine.execute({
      runtime: "python",
      code: "import tinypkg; print(tinypkg.VALUE); print(tinypkg.__file__.startswith('/sandbox/'))",
      installPackages: ["tinypkg"],
      env: pipEnv("pkgs.test", index.port),
      network: "filtered",
      allow: ["pkgs\\.test"],
      timeoutMs: 110_000,
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("tinypkg from the test index\nTrue\n");
    expect(index.requests.map((q) => `${q.host} ${q.url}`)).toEqual([
      `pkgs.test:${index.port} /simple/tinypkg/`,
      `pkgs.test:${index.port} /files/${wheel.fileName}`,
    ]);
  }, 120_000);

  test("blocked twin: without the index host on the allow list the install fails and the index sees nothing", async () => {
    index.reset();
    const r = await indexEngine.execute({
      runtime: "python",
      code: "import tinypkg",
      installPackages: ["tinypkg"],
      env: { ...pipEnv("pkgs.test", index.port), PIP_RETRIES: "0" },
      timeoutMs: 110_000,
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain("isol8: installing tinypkg failed (exit 1)");
    expect(index.connections).toBe(0);
  }, 120_000);

  test("an install stalled past the timeout ends with timedOut (the index accepts and never answers)", async () => {
    const r = await indexEngine.execute({
      runtime: "python",
      code: "print('never runs')",
      installPackages: ["tinypkg"],
      env: pipEnv("stall.test", stall.port),
      network: "filtered",
      allow: ["stall\\.test"],
      timeoutMs: 6_000,
    });
    expect(stall.connections).toBeGreaterThan(0); // the install got there, and waited
    expect(r.timedOut).toBe(true);
    expect(r.resourceUsage.killReason).toBe("timeout");
    expect(r.stdout).not.toContain("never runs");
    expect(r.stderr).toContain("isol8: installing tinypkg failed (timeout)");
  }, 60_000);
});

describe("the registries are for the install step only (docs/SECURITY.md D23)", () => {
  /** The program asks the registry host for the index page, over plain HTTP and through a CONNECT tunnel. */
  const probe = () => `
import tinypkg, urllib.request, urllib.error
print(tinypkg.VALUE)
for url in ["http://${registryHost}:${index.port}/simple/tinypkg/", "https://${registryHost}:${index.port}/simple/tinypkg/"]:
    try:
        urllib.request.urlopen(url, timeout=10)
        print("LEAK", url)
    except urllib.error.HTTPError as e:
        print("http", e.code)
    except OSError as e:
        print("tunnel refused" if "403" in str(e) else f"other {e}")
`;
  const pipEnv = () => ({
    PIP_INDEX_URL: `http://${registryHost}:${index.port}/simple`,
    PIP_TRUSTED_HOST: registryHost,
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
  });
  const installRequests = () => [`${registryHost}:${index.port} /simple/tinypkg/`, `${registryHost}:${index.port} /files/${wheel.fileName}`];

  test.each([
    ["filtered (no allow list of its own)", "filtered" as const],
    ["none (the install goes through the proxy, then nothing is reachable)", "none" as const],
  ])("network %s: the install reaches the registry, the program's own requests to it get 403", async (_, network) => {
    index.reset();
    const r = await labelledEngine.execute({
      runtime: "python",
      code: probe(),
      installPackages: ["tinypkg"],
      network,
      env: pipEnv(),
      logNetwork: true,
      timeoutMs: 110_000,
    });
    // Still works: the install itself went through (the program imports what it fetched).
    expect(r.stdout).toBe("tinypkg from the test index\nhttp 403\ntunnel refused\n");
    expect(r.exitCode).toBe(0);
    // The registry saw the install's two requests and nothing of the program.
    expect(index.requests.map((q) => `${q.host} ${q.url}`)).toEqual(installRequests());
    const logs = (r.networkLogs ?? []).map((e) => ({ method: e.method, host: e.host, action: e.action, status: e.status }));
    expect(logs).toEqual([
      { method: "GET", host: registryHost, action: "ALLOW", status: 200 },
      { method: "GET", host: registryHost, action: "ALLOW", status: 200 },
      { method: "GET", host: registryHost, action: "BLOCK", status: 403 },
      { method: "CONNECT", host: registryHost, action: "BLOCK", status: 403 },
    ]);
    expect((r.networkLogs ?? []).filter((e) => e.action === "BLOCK").every((e) => e.reason === `host "${registryHost}" is not in the allow list`)).toBe(true);
  }, 120_000);

  test("still works: a filtered program that names the registry host in its own allow list reaches it", async () => {
    index.reset();
    const r = await labelledEngine.execute({
      runtime: "python",
      code: `import urllib.request; print(urllib.request.urlopen("http://${registryHost}:${index.port}/simple/tinypkg/", timeout=10).status)`,
      network: "filtered",
      allow: [registryHost.replaceAll(".", "\\.")],
    });
    expect(r.stdout).toBe("200\n");
    expect(index.requests).toHaveLength(1);
  }, 60_000);
});

describe("package names are data", () => {
  const refused: [string, string][] = [
    ["python", "--index-url=x"],
    ["python", "https://x"],
    ["python", "a;b"],
    ["python", "../x"],
    ["python", "-e."],
    ["python", "x @ file:///etc"],
    ["node", "--registry=x"],
    ["node", "git+https://x"],
    ["node", "file:../x"],
    ["node", "a$(id)"],
    ["bun", "../x"],
    ["bun", "-g"],
  ];

  test.each(refused)("%s: %p is a RequestError, and no container is created", async (runtime, name) => {
    const before = created();
    const error = await rejection(indexEngine.execute({ runtime: runtime as "python", code: "1", installPackages: ["ok", name] }));
    expect(error).toBeInstanceOf(RequestError);
    expect(error.message).toBe(`Cannot install ${JSON.stringify(name)}: not a plain ${runtime} package name`);
    expect((error as RequestError).field).toBe("installPackages");
    expect(created()).toBe(before);
  });

  test("installs for bash, and allow patterns for a none program, are RequestErrors before any container work", async () => {
    const before = created();
    const bash = await rejection(indexEngine.execute({ runtime: "bash", code: "true", installPackages: ["curl"] }));
    expect(bash).toBeInstanceOf(RequestError);
    expect(bash.message).toContain("not supported for bash");
    const none = await rejection(indexEngine.execute({ runtime: "python", code: "1", installPackages: ["tinypkg"], network: "none", allow: ["x"] }));
    expect(none).toBeInstanceOf(RequestError);
    expect((none as RequestError).field).toBe("allow");
    expect(created()).toBe(before);
  });

  test("still works: the counting client does see a valid run create its container", async () => {
    const before = created();
    // A memory limit no earlier run used: no pooled container fits, so one is created.
    const r = await indexEngine.execute({ runtime: "python", code: "print('ran')", network: "filtered", memoryLimit: "300m" });
    expect(r.stdout).toBe("ran\n");
    expect(created()).toBeGreaterThan(before);
  });
});
