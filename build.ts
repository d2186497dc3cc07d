#!/usr/bin/env bun
/**
 * Builds isol8:
 *   dist/isol8            the standalone executable for this machine (CLI + server + embedded assets)
 *   dist/index.js, *.d.ts the library bundle, importable from Node and Bun
 *   dist/launcher.cjs     the npm package's `bin`: a Node launcher that installs and runs the binary
 *
 * Usage: bun build.ts [--targets host|all|bun-linux-arm64,...] [--skip-library] [--release <dir>]
 * Other targets are written as dist/isol8-<os>-<arch>; Bun fetches their runtimes itself.
 *
 * --release <dir> leaves dist/ alone and writes a release tree instead (layout in
 * src/update/layout.ts): <dir>/v<version>/ with isol8-<os>-<arch> for each target,
 * launcher.cjs, SHA256SUMS and manifest.json, plus <dir>/latest/manifest.json. There
 * `--targets all` means linux and darwin on x64 and arm64; a cross target whose Bun
 * runtime cannot be fetched is reported and skipped. ISOL8_BUILD_VERSION sets the version.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import pkg from "./package.json" with { type: "json" };
import { type ChecksumEntry, formatChecksums } from "./src/update/checksums";
import { CHECKSUMS_FILE, LATEST_DIR, LAUNCHER_FILE, MANIFEST_FILE, versionDir } from "./src/update/layout";
import { createManifest, parseManifest } from "./src/update/manifest";
import { binaryFileName, isReleaseTarget, RELEASE_TARGETS, type ReleaseTarget } from "./src/update/platform";
import { compareVersions, isVersion } from "./src/update/versions";

const ROOT = import.meta.dir;
const DIST = join(ROOT, "dist");
const VERSION = process.env.ISOL8_BUILD_VERSION ?? pkg.version;
const define = { ISOL8_VERSION: JSON.stringify(VERSION) };

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

function hostTarget(): string {
  const os = process.platform === "darwin" ? "darwin" : "linux";
  return `bun-${os}-${process.arch === "arm64" ? "arm64" : "x64"}`;
}

function fail(message: string): never {
  console.error(`build: ${message}`);
  process.exit(1);
}

async function buildLibrary(): Promise<void> {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "src/index.ts")],
    outdir: DIST,
    target: "node",
    format: "esm",
    define,
    external: Object.keys(pkg.dependencies),
  });
  if (!result.success) fail(`library bundle failed:\n${result.logs.join("\n")}`);
  const tsc = spawnSync(
    join(ROOT, "node_modules/.bin/tsc"),
    ["-p", "tsconfig.build.json", "--outDir", join(DIST, "types")],
    { cwd: ROOT, stdio: "inherit" },
  );
  if (tsc.status !== 0) fail("declaration emit failed");
  writeFileSync(join(DIST, "index.d.ts"), 'export * from "./types/src/index";\n');
  console.log("build: dist/index.js + dist/index.d.ts");
}

/** Bun.build throws an AggregateError whose message alone says only "Bundle failed". */
function describe(error: unknown): string {
  const inner = (error as { errors?: unknown[] }).errors;
  return Array.isArray(inner) && inner.length ? inner.map(String).join("\n") : String((error as Error)?.message ?? error);
}

/** Compiles the CLI for `target`; throws when Bun cannot (e.g. a cross target's runtime cannot be fetched). */
async function compileBinary(target: string, outfile: string): Promise<void> {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "src/cli/main.ts")],
    define,
    minify: true,
    sourcemap: "none",
    // ssh2 (via dockerode) loads this optional native addon inside a try/catch; isol8 never
    // uses SSH, and its build script is not run (package.json allowScripts).
    external: ["cpu-features"],
    compile: {
      target: target as Bun.Build.CompileTarget,
      outfile,
      // The binary must behave the same wherever it runs: no .env or bunfig.toml of the cwd.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
  });
  if (!result.success) throw new Error(result.logs.join("\n"));
  console.log(`build: ${outfile.replace(`${ROOT}/`, "")} (${target})`);
}

async function buildBinary(target: string, outfile: string): Promise<void> {
  await compileBinary(target, outfile).catch((error: Error) => fail(`compile for ${target} failed:\n${describe(error)}`));
}

/** The Node launcher as one CommonJS file (no dependencies left to install), executable. */
async function buildLauncher(outfile: string): Promise<void> {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "src/launcher/main.ts")],
    target: "node",
    format: "cjs",
    define,
  });
  const output = result.outputs[0];
  if (!result.success || !output) fail(`launcher bundle failed:\n${result.logs.join("\n")}`);
  writeFileSync(outfile, await output.text());
  chmodSync(outfile, 0o755);
  console.log(`build: ${outfile.replace(`${ROOT}/`, "")} (launcher)`);
}

/** Proves the launcher bundle runs on Node: pointed at `binary`, it must run it (and never download). */
function smokeLauncher(launcher: string, binary: string): void {
  const run = spawnSync("node", [launcher, "--version"], {
    encoding: "utf8",
    cwd: "/",
    env: { ...process.env, ISOL8_BINARY: binary, ISOL8_RELEASE_URL: "http://127.0.0.1:9" },
  });
  if (run.error) {
    console.log(`build: launcher smoke skipped (node: ${(run.error as NodeJS.ErrnoException).code})`);
    return;
  }
  if (run.status !== 0 || run.stdout.trim() !== VERSION) {
    fail(`launcher smoke test failed: node ${launcher} --version printed ${JSON.stringify(run.stdout.trim())} (exit ${run.status}), expected ${VERSION}\n${run.stderr}`);
  }
  console.log(`build: launcher smoke ok (node ${launcher.replace(`${ROOT}/`, "")} --version = ${VERSION})`);
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** `--targets` as release names (`linux-x64`, ...); `bun-` prefixes are accepted. */
function releaseNames(requested: string, host: string): ReleaseTarget[] {
  if (requested === "all") return [...RELEASE_TARGETS];
  const names = requested === "host" ? [host] : requested.split(",");
  return names.map((name) => {
    const plain = name.trim().replace(/^bun-/, "");
    if (!isReleaseTarget(plain)) fail(`no release target "${name}": use ${RELEASE_TARGETS.join(", ")}, host or all`);
    return plain;
  });
}

async function buildRelease(root: string, names: ReleaseTarget[], hostName: ReleaseTarget): Promise<void> {
  if (!isVersion(VERSION)) fail(`cannot release version "${VERSION}": it must look like 1.2.3`);
  const dir = join(root, versionDir(VERSION));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const built: ReleaseTarget[] = [];
  for (const name of names) {
    try {
      await compileBinary(`bun-${name}`, join(dir, binaryFileName(name)));
      built.push(name);
    } catch (error) {
      if (name === hostName) fail(`compile for ${name} failed:\n${describe(error)}`);
      console.error(`build: skipped ${name}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  if (!built.length) fail("no release binary could be built");
  const launcher = join(dir, LAUNCHER_FILE);
  await buildLauncher(launcher);
  if (built.includes(hostName)) {
    smoke(join(dir, binaryFileName(hostName)));
    smokeLauncher(launcher, join(dir, binaryFileName(hostName)));
  }

  const files = Object.fromEntries(built.map((name) => [name, { file: binaryFileName(name), sha256: sha256(join(dir, binaryFileName(name))) }]));
  const sums: ChecksumEntry[] = [...Object.values(files), { file: LAUNCHER_FILE, sha256: sha256(launcher) }];
  writeFileSync(join(dir, CHECKSUMS_FILE), formatChecksums(sums));
  const manifest = `${JSON.stringify(createManifest(VERSION, files), null, 2)}\n`;
  writeFileSync(join(dir, MANIFEST_FILE), manifest);

  // `latest` moves only forward: building an older version into the same tree keeps it.
  const latest = join(root, LATEST_DIR, MANIFEST_FILE);
  const current = existsSync(latest) ? parseManifest(readFileSync(latest, "utf8"), latest).version : undefined;
  if (current && compareVersions(current, VERSION) > 0) {
    console.log(`build: ${relative(ROOT, latest)} stays at ${current} (newer than ${VERSION})`);
  } else {
    mkdirSync(join(root, LATEST_DIR), { recursive: true });
    writeFileSync(latest, manifest);
  }
  console.log(`build: release ${VERSION} in ${dir} (${built.join(", ")})`);
}

function smoke(binary: string): void {
  const run = spawnSync(binary, ["--version"], { encoding: "utf8", cwd: "/" });
  if (run.status !== 0 || run.stdout.trim() !== VERSION) {
    fail(`smoke test failed: ${binary} --version printed ${JSON.stringify(run.stdout.trim())} (exit ${run.status}), expected ${VERSION}`);
  }
  console.log(`build: smoke ok (${binary.replace(`${ROOT}/`, "")} --version = ${VERSION})`);
}

const host = hostTarget();
const requested = flag("targets") ?? "host";
const release = flag("release");
if (release) {
  const hostName = host.replace(/^bun-/, "");
  if (!isReleaseTarget(hostName)) fail(`cannot build a release on "${hostName}"`);
  await buildRelease(resolve(release), releaseNames(requested, hostName), hostName);
} else {
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  if (!process.argv.includes("--skip-library")) await buildLibrary();
  const targets = requested === "all" ? RELEASE_TARGETS.map((name) => `bun-${name}`) : requested === "host" ? [host] : requested.split(",");
  for (const target of targets) {
    const outfile = target === host ? join(DIST, "isol8") : join(DIST, `isol8-${target.replace(/^bun-/, "")}`);
    await buildBinary(target, outfile);
  }
  await buildLauncher(join(DIST, LAUNCHER_FILE));
  if (targets.includes(host)) {
    smoke(join(DIST, "isol8"));
    smokeLauncher(join(DIST, LAUNCHER_FILE), join(DIST, "isol8"));
  }
}
