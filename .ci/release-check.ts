#!/usr/bin/env bun
// Every release binary is checked before it ships: builds a signed release for every target
// (linux and darwin, x64 and arm64) into a scratch directory, then
//   - runs the linux binaries: natively, and linux-arm64 under qemu user-mode emulation
//     (.ci/provision-qemu.sh): `--version`, `config --json`, and one real run against this
//     host's Docker (the images of $ISOL8_IMAGE_REPOSITORY, built by `isol8 setup`);
//   - checks the darwin binaries, which cannot run here, for their executable format and
//     architecture and for the version compiled in.
// Exits non-zero naming every failed check. Usage: bun .ci/release-check.ts
import { spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { containsBytes, targetProblem } from "../src/update/binary-format";
import { binaryFileName, RELEASE_TARGETS, type ReleaseTarget } from "../src/update/platform";

const ROOT = join(import.meta.dir, "..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
// A version no other binary carries, so finding it in a binary means this build put it there.
const VERSION = `${pkg.version}-check.${Date.now()}`;
const ARM64_LIBC = "/usr/aarch64-linux-gnu";

const failures: string[] = [];
const check = (what: string, problem: string | null) => {
  console.error(`release-check: ${problem ? "FAIL" : "ok"}  ${what}${problem ? `: ${problem}` : ""}`);
  if (problem) failures.push(`${what}: ${problem}`);
};

function header(path: string): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const bytes = new Uint8Array(64);
    readSync(fd, bytes, 0, 64, 0);
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** How a linux binary is started here: natively, or through qemu for the other architecture. */
function launcher(target: ReleaseTarget): string[] | null {
  const native = `linux-${process.arch === "arm64" ? "arm64" : "x64"}`;
  if (target === native) return [];
  if (target === "linux-arm64") return ["qemu-aarch64-static", "-L", ARM64_LIBC];
  return null;
}

function run(target: ReleaseTarget, binary: string, args: string[]) {
  const prefix = launcher(target)!;
  const [command, ...rest] = [...prefix, binary, ...args];
  const started = performance.now();
  const result = spawnSync(command!, [...rest], { encoding: "utf8", cwd: tmpdir(), timeout: 180_000, env: { ...process.env, NO_COLOR: "1" } });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const problem = result.error ? String(result.error.message) : result.status !== 0 ? `exit ${result.status}: ${result.stderr.trim().split("\n").slice(-2).join(" / ")}` : null;
  return { ...result, problem, seconds };
}

function runChecks(target: ReleaseTarget, binary: string): void {
  const version = run(target, binary, ["--version"]);
  check(`${target} --version (${version.seconds}s)`, version.problem ?? (version.stdout.trim() === VERSION ? null : `printed ${JSON.stringify(version.stdout.trim())}`));
  const config = run(target, binary, ["config", "--json"]);
  let parsed: { maxConcurrent?: unknown } | null = null;
  try {
    parsed = JSON.parse(config.stdout);
  } catch {}
  check(`${target} config --json (${config.seconds}s)`, config.problem ?? (typeof parsed?.maxConcurrent === "number" ? null : "not a configuration document"));
  const executed = run(target, binary, ["run", "-e", "print(6*7)"]);
  check(`${target} run -e "print(6*7)" (${executed.seconds}s)`, executed.problem ?? (executed.stdout === "42\n" ? null : `printed ${JSON.stringify(executed.stdout)}`));
}

const work = mkdtempSync(join(tmpdir(), "isol8-release-check-"));
try {
  const key = join(work, "release-key.pem");
  const made = spawnSync(BUN, ["build.ts", "--new-signing-key", key], { cwd: ROOT, encoding: "utf8" });
  if (made.status !== 0) throw new Error(`cannot create a signing key: ${made.stderr}`);
  const release = join(work, "release");
  const built = spawnSync(BUN, ["build.ts", "--release", release, "--signing-key", key, "--targets", "all"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ISOL8_BUILD_VERSION: VERSION },
  });
  process.stderr.write(built.stdout.split("\n").filter((l) => l.includes("skipped") || l.includes("release ")).map((l) => `${l}\n`).join(""));
  if (built.status !== 0) throw new Error(`the release build failed:\n${built.stderr}${built.stdout}`);
  for (const target of RELEASE_TARGETS) {
    const binary = join(release, `v${VERSION}`, binaryFileName(target));
    if (!existsSync(binary)) {
      check(`${target} built`, "missing from the release (its Bun runtime could not be fetched?)");
      continue;
    }
    check(`${target} executable format`, targetProblem(target, header(binary)));
    if (launcher(target)) runChecks(target, binary);
    else check(`${target} carries version ${VERSION}`, containsBytes(readFileSync(binary), VERSION) ? null : "not found in the binary");
  }
} catch (error) {
  failures.push((error as Error).message);
  console.error(`release-check: ${(error as Error).message}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`release-check: ${failures.length} check(s) failed`);
  process.exit(1);
}
console.error("release-check: every release binary checked");
