// .ci/provision-gvisor.sh merges runsc into Docker's daemon.json without discarding anything
// already there. Run against a file of the test's own (ISOL8_DOCKER_DAEMON_JSON), with a
// `docker` that never answers (so the script does not see the real daemon's runtimes) and no
// daemon pid file (so nothing is reloaded), and a stand-in `runsc` (so nothing is installed).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers";

const ARGS = ["--network=none", "--host-uds=open", "--oci-seccomp"];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "isol8-provision-"));
  writeFileSync(join(dir, "docker"), "#!/bin/sh\nexit 1\n");
  chmodSync(join(dir, "docker"), 0o755);
  writeFileSync(join(dir, "runsc"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(dir, "runsc"), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function provision(initial: string | null): { code: number; stderr: string; config: string } {
  const file = join(dir, "daemon.json");
  rmSync(file, { force: true });
  rmSync(`${file}.before-isol8`, { force: true });
  if (initial !== null) writeFileSync(file, initial);
  const r = spawnSync("bash", [join(ROOT, ".ci", "provision-gvisor.sh")], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, ISOL8_DOCKER_DAEMON_JSON: file, ISOL8_DOCKER_PIDFILE: join(dir, "no.pid") },
  });
  return { code: r.status ?? -1, stderr: r.stderr, config: existsSync(file) ? readFileSync(file, "utf8") : "" };
}

const runsc = (config: string) => (JSON.parse(config) as { runtimes: Record<string, { path: string; runtimeArgs: string[] }> }).runtimes.runsc!;

describe.skipIf(!process.getuid || process.getuid() !== 0)("provision-gvisor.sh (as root)", () => {
  test("no daemon.json: one is written with runsc and isol8's arguments", () => {
    const r = provision(null);
    expect(r.code).toBe(0);
    expect(runsc(r.config)).toEqual({ path: join(dir, "runsc"), runtimeArgs: ARGS });
  });

  test("every key already there is kept, other runtimes too; the original is saved", () => {
    const before = { "log-driver": "json-file", debug: false, runtimes: { kata: { path: "/usr/bin/kata" } } };
    const r = provision(JSON.stringify(before));
    expect(r.code).toBe(0);
    const after = JSON.parse(r.config);
    expect(after).toMatchObject(before);
    expect(after.runtimes.runsc.runtimeArgs).toEqual(ARGS);
    expect(JSON.parse(readFileSync(join(dir, "daemon.json.before-isol8"), "utf8"))).toEqual(before);
  });

  test("an existing runsc keeps its path and its own arguments; isol8's replace only the same flags", () => {
    const r = provision(JSON.stringify({ runtimes: { runsc: { path: "/opt/runsc", runtimeArgs: ["--platform=ptrace", "--network=sandbox"] } } }));
    expect(r.code).toBe(0);
    expect(runsc(r.config)).toEqual({ path: "/opt/runsc", runtimeArgs: ["--platform=ptrace", ...ARGS] });
  });

  test("a second run changes nothing", () => {
    const first = provision(null).config;
    const file = join(dir, "daemon.json");
    const again = spawnSync("bash", [join(ROOT, ".ci", "provision-gvisor.sh")], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, ISOL8_DOCKER_DAEMON_JSON: file, ISOL8_DOCKER_PIDFILE: join(dir, "no.pid") },
    });
    expect(again.status).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(first);
  });

  test.each(["{not json", "[1, 2]"])("a file that is not a JSON object (%p) is left alone and the script fails", (text) => {
    const r = provision(text);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not a JSON object");
    expect(r.config).toBe(text);
  });
});
