// The compiled binary's filtered network and installs: --install
// without --net, a refused package name with no container work, and --net filtered with
// --allow/--deny/--log-network against a sink this file starts.
//
// SAFETY: the npm registry (through the proxy, its name read from npm's own configuration)
// and sinks on 127.0.0.1 are the only destinations.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LABEL_PID } from "../../src/engine/labels";
import { type HttpSink, startHttpSink } from "../docker/network-sinks";
import { BINARY, TEST_SCOPE } from "../helpers";

/** Holds an isol8.config.json pointing sink.test and other.test at the sink. */
let work: string;
/** No config file: the default network rules (the registry's port 443 allowed). */
let plain: string;
let sink: HttpSink;

beforeAll(async () => {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);
  work = mkdtempSync(join(tmpdir(), "isol8-e2e-net-"));
  plain = mkdtempSync(join(tmpdir(), "isol8-e2e-plain-"));
  sink = await startHttpSink("127.0.0.1");
  const config = {
    network: { hosts: { "sink.test": "127.0.0.1", "other.test": "127.0.0.1" }, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [sink.port] },
  };
  writeFileSync(join(work, "isol8.config.json"), JSON.stringify(config));
});

afterAll(async () => {
  await sink?.close();
  for (const dir of [work, plain]) if (dir) rmSync(dir, { recursive: true, force: true });
  // Every run removed its container (the CLI's engine stops before it exits).
  for (const pid of runPids) {
    const left = spawnSync("docker", ["ps", "-aq", "--filter", `label=${LABEL_PID}=${pid}`], { encoding: "utf8" });
    expect(left.stdout.trim()).toBe("");
  }
});

/** Pids of the binary's runs: their containers carry them as a label. */
const runPids: number[] = [];

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  pid: number;
  started: Date;
}

/** Runs the binary without blocking this process (the sink must keep answering meanwhile). */
function cli(args: string[], cwd = work): Promise<CliRun> {
  const started = new Date();
  // The test's own config is named explicitly: network.hosts and allowedCidrs may not come from a file merely found in cwd.
  const config = cwd === work ? { ISOL8_CONFIG: join(work, "isol8.config.json") } : {};
  const child = spawn(BINARY, args, { cwd, env: { ...process.env, NO_COLOR: "1", ISOL8_SCOPE: TEST_SCOPE, ...config }, stdio: ["ignore", "pipe", "pipe"] });
  runPids.push(child.pid!);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, pid: child.pid!, started }));
  });
}

/** Containers Docker reports created since the run started by that process (its pid label). */
function containersCreatedBy(run: CliRun): string[] {
  const events = spawnSync(
    "docker",
    [
      "events",
      "--since", String(Math.floor(run.started.getTime() / 1000) - 1),
      "--until", String(Math.ceil(Date.now() / 1000) + 1),
      "--filter", "type=container",
      "--filter", "event=create",
      "--filter", `label=${LABEL_PID}=${run.pid}`,
      "--format", "{{.ID}}",
    ],
    { encoding: "utf8" },
  );
  expect(events.status).toBe(0);
  return events.stdout.split("\n").filter(Boolean);
}

/** `isol8: net ...` lines of a run's stderr. */
const netLines = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith("isol8: net "));

describe("--install", () => {
  test("acceptance: run -r node --install is-number (no --net) prints true", async () => {
    const r = await cli(["run", "-r", "node", "--install", "is-number", "-e", "import n from 'is-number'; console.log(n(5))"], plain);
    expect(r.stdout).toBe("true\n");
    expect(r.code).toBe(0);
  }, 120_000);

  test("the install goes through the proxy to npm's registry (--log-network shows the tunnel)", async () => {
    const query = await cli(["run", "-r", "node", "-e", 'import { execFileSync } from "node:child_process"; console.log(execFileSync("npm", ["config", "get", "registry"]).toString().trim())'], plain);
    expect(query.code).toBe(0);
    const registry = new URL(query.stdout.trim()).hostname;
    // A pinned spec no baked image is labelled with, so the install itself runs.
    const r = await cli(["run", "-r", "node", "--install", "is-number@7.0.0", "--log-network", "-e", "import n from 'is-number'; console.log(n('5'))"], plain);
    expect(r.stdout).toBe("true\n");
    expect(r.code).toBe(0);
    const tunnels = netLines(r.stderr).filter((line) => line.includes(` ALLOW CONNECT ${registry}:443 200 `));
    expect(tunnels.length).toBeGreaterThan(0);
  }, 120_000);

  test("acceptance: --install '--index-url=x' exits 2 and no container is created", async () => {
    const r = await cli(["run", "--install", "--index-url=x", "-e", "1", "-r", "python"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Cannot install "--index-url=x": not a plain python package name');
    expect(r.stdout).toBe("");
    expect(containersCreatedBy(r)).toEqual([]);

    // Still works: the same check sees the container of a valid run.
    const valid = await cli(["run", "-e", "print(1)", "-r", "python"]);
    expect(valid.stdout).toBe("1\n");
    expect(containersCreatedBy(valid)).toHaveLength(1);
  }, 120_000);
});

describe("--net filtered", () => {
  const program = (port: number) =>
    [
      "import urllib.request, urllib.error",
      "for host in ['sink.test', 'other.test']:",
      "    try:",
      `        r = urllib.request.urlopen(f'http://{host}:${port}/from-cli', timeout=20)`,
      "        print(host, r.status, r.read().decode())",
      "    except urllib.error.HTTPError as e:",
      "        print(host, e.code, e.read().decode().strip())",
    ].join("\n");

  test("acceptance: --allow '^sink\\.test$' --log-network reaches the sink, gets 403 elsewhere, and prints both entries", async () => {
    sink.reset();
    const r = await cli(["run", "--net", "filtered", "--allow", "^sink\\.test$", "--log-network", "-r", "python", "-e", program(sink.port)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `sink.test 200 sink sink.test:${sink.port} /from-cli\nother.test 403 host "other.test" is not in the allow list\n`,
    );
    const lines = netLines(r.stderr);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^isol8: net \\S+Z ALLOW GET sink\\.test:${sink.port}/from-cli 200 \\d+ms$`));
    expect(lines[1]).toMatch(
      new RegExp(`^isol8: net \\S+Z BLOCK GET other\\.test:${sink.port}/from-cli 403 \\d+ms \\(host "other\\.test" is not in the allow list\\)$`),
    );
    expect(sink.requests.map((q) => q.host)).toEqual([`sink.test:${sink.port}`]);
  }, 120_000);

  test("--deny wins over a repeated --allow", async () => {
    sink.reset();
    const r = await cli(["run", "--net", "filtered", "--allow", "^sink\\.test$", "--allow", "^other\\.test$", "--deny", "^other\\.test$", "-r", "python", "-e", program(sink.port)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`sink.test 200 sink sink.test:${sink.port} /from-cli\nother.test 403 host "other.test" is denied by the network policy\n`);
    expect(netLines(r.stderr)).toEqual([]); // no --log-network, no lines
    expect(sink.requests.map((q) => q.host)).toEqual([`sink.test:${sink.port}`]);
  }, 120_000);
});
