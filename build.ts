#!/usr/bin/env bun
/**
 * Builds isol8:
 *   dist/isol8            the standalone executable for this machine (CLI + server + embedded assets)
 *   dist/index.js, *.d.ts the library bundle, importable from Node and Bun
 *   dist/launcher.cjs     the npm package's `bin`: a Node launcher that installs and runs the binary
 *
 * Usage: bun build.ts [--targets host|all|bun-linux-arm64,...] [--skip-library]
 *                     [--release <dir> --signing-key <file> [--signing-key <file>...]]
 *        bun build.ts --new-signing-key <file>
 * Other targets are written as dist/isol8-<os>-<arch>; Bun fetches their runtimes itself.
 *
 * --release <dir> leaves dist/ alone and writes a release tree instead (layout in
 * src/update/layout.ts): <dir>/v<version>/ with isol8-<os>-<arch> for each target,
 * launcher.cjs, SHA256SUMS, SHA256SUMS.sig and manifest.json, plus
 * <dir>/latest/manifest.json. There `--targets all` means linux and darwin on x64 and
 * arm64; a cross target whose Bun runtime cannot be fetched is reported and skipped.
 * ISOL8_BUILD_VERSION sets the version.
 *
 * Every build embeds the release keys it trusts (src/update/release-keys.json, plus the
 * public half of each --signing-key); a release is signed with each --signing-key.
 * --new-signing-key writes a new private key (mode 0600, outside the repository) and
 * prints its public key. README "Release signing" has the key procedure.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import pkg from "./package.json" with { type: "json" };
import { withFileExtensions } from "./src/build/declarations";
import { formatError } from "./src/errors";
import { type ChecksumEntry, formatChecksums } from "./src/update/checksums";
import { CHECKSUMS_FILE, LATEST_DIR, LAUNCHER_FILE, MANIFEST_FILE, SIGNATURE_FILE, versionDir } from "./src/update/layout";
import { createManifest, parseManifest } from "./src/update/manifest";
import { binaryFileName, isReleaseTarget, RELEASE_TARGETS, type ReleaseTarget } from "./src/update/platform";
import repositoryKeys from "./src/update/release-keys.json" with { type: "json" };
import { parseReleaseKeys } from "./src/update/release-keys";
import { verifyChecksums } from "./src/update/signature";
import { createSigningKey, readSigningKey, type SigningKey, signChecksums } from "./src/update/signing-key";
import { compareVersions, isVersion } from "./src/update/versions";
import { RUNTIME_NAMES } from "./src/runtimes/registry";

const ROOT = import.meta.dir;
const DIST = join(ROOT, "dist");
const VERSION = process.env.ISOL8_BUILD_VERSION ?? pkg.version;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

/** Every value of a repeatable flag. */
function flags(name: string): string[] {
  return process.argv.flatMap((arg, i) => (arg === `--${name}` && process.argv[i + 1] !== undefined ? [process.argv[i + 1]!] : []));
}

function hostTarget(): string {
  const os = process.platform === "darwin" ? "darwin" : "linux";
  return `bun-${os}-${process.arch === "arm64" ? "arm64" : "x64"}`;
}

function fail(message: string): never {
  console.error(`build: ${message}`);
  process.exit(1);
}

/** The same failure for an isol8 error, with its hint. */
function failWith(error: unknown): never {
  fail(formatError(error).replace("\nhint: ", "\nbuild: hint: "));
}

/** Whether `path` (once its directory exists) lies inside this repository, where a private key could be committed. */
function insideRepository(path: string): boolean {
  const real = (p: string): string => (existsSync(p) ? realpathSync(p) : join(real(dirname(p)), relative(dirname(p), p)));
  const root = realpathSync(ROOT);
  const target = real(resolve(path));
  return target === root || target.startsWith(`${root}${sep}`);
}

/** Creates a signing key for a maintainer, then stops: the key never enters a build by itself. */
function newSigningKey(path: string): never {
  if (insideRepository(path)) fail(`cannot create signing key "${path}": it is inside the repository, where it could be committed\nbuild: hint: keep it outside, e.g. ~/.config/isol8/release-key.pem, and in a secret store`);
  let publicKey: string;
  try {
    publicKey = createSigningKey(path);
  } catch (error) {
    failWith(error);
  }
  console.log(`build: wrote a new release signing key to ${path} (mode 0600)`);
  console.log(`build: its public key: ${publicKey}`);
  console.log(`build: to trust it, add {"publicKey": "${publicKey}", "note": "<whose key, since when>"} to src/update/release-keys.json`);
  process.exit(0);
}

/** The keys a release is signed with, refused before anything is built when one is unusable. */
function signingKeys(paths: readonly string[]): SigningKey[] {
  return paths.map((path) => {
    if (insideRepository(path)) fail(`cannot use signing key "${path}": it is inside the repository, where it could be committed\nbuild: hint: move it out of the repository`);
    try {
      return readSigningKey(path);
    } catch (error) {
      failWith(error);
    }
  });
}

/** The public keys this build embeds: the repository's list plus the release's signing keys. */
function trustedKeys(signing: readonly SigningKey[]): string[] {
  let listed: string[];
  try {
    listed = parseReleaseKeys(repositoryKeys, "src/update/release-keys.json").map((entry) => entry.publicKey);
  } catch (error) {
    failWith(error);
  }
  return [...new Set([...listed, ...signing.map((key) => key.publicKey)])];
}

/** The compile-time constants: the version and the trusted keys (see src/version.ts, src/update/trusted-keys.ts). */
function defineFor(keys: readonly string[]): Record<string, string> {
  return { ISOL8_VERSION: JSON.stringify(VERSION), ISOL8_TRUSTED_KEYS: JSON.stringify(keys) };
}

/** Where the playground's bundled script goes (imported by src/assets.ts; not in git). */
const PLAYGROUND_BUNDLE = join(ROOT, "embedded/generated/playground.bundle");

/** Bundles the playground's script with its editor (CodeMirror) for the browser: embedded, nothing fetched at run time. */
async function buildPlayground(): Promise<void> {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "playground/main.ts")],
    target: "browser",
    format: "esm",
    minify: true,
    define: { ISOL8_RUNTIMES: JSON.stringify(RUNTIME_NAMES) },
  });
  const output = result.outputs[0];
  if (!result.success || !output) fail(`playground bundle failed:\n${result.logs.join("\n")}`);
  mkdirSync(dirname(PLAYGROUND_BUNDLE), { recursive: true });
  writeFileSync(PLAYGROUND_BUNDLE, await output.text());
  console.log(`build: ${relative(ROOT, PLAYGROUND_BUNDLE)} (playground, ${Math.round(output.size / 1024)} KiB)`);
}

async function buildLibrary(define: Record<string, string>): Promise<void> {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "src/index.ts")],
    outdir: DIST,
    target: "node",
    format: "esm",
    define,
    external: Object.keys(pkg.dependencies),
  });
  if (!result.success) fail(`library bundle failed:\n${result.logs.join("\n")}`);
  // Declarations of what src/index.ts reaches, with full relative specifiers (`./engine.js`) so
  // they resolve under moduleResolution NodeNext, Node16 and Bundler alike (src/build/declarations.ts).
  const types = join(DIST, "types");
  const tsc = spawnSync(join(ROOT, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json", "--outDir", types], { cwd: ROOT, stdio: "inherit" });
  if (tsc.status !== 0) fail("declaration emit failed");
  for (const file of new Bun.Glob("**/*.d.ts").scanSync(types)) {
    const path = join(types, file);
    try {
      writeFileSync(path, withFileExtensions(readFileSync(path, "utf8"), (relativeDts) => existsSync(join(dirname(path), relativeDts))));
    } catch (error) {
      fail(`declarations of ${file}: ${(error as Error).message}`);
    }
  }
  writeFileSync(join(DIST, "index.d.ts"), 'export * from "./types/index.js";\n');
  console.log("build: dist/index.js + dist/index.d.ts (+ dist/types/)");
}

/** Bun.build throws an AggregateError whose message alone says only "Bundle failed". */
function describe(error: unknown): string {
  const inner = (error as { errors?: unknown[] }).errors;
  return Array.isArray(inner) && inner.length ? inner.map(String).join("\n") : String((error as Error)?.message ?? error);
}

/** Compiles the CLI for `target`; throws when Bun cannot (e.g. a cross target's runtime cannot be fetched). */
async function compileBinary(target: string, outfile: string, define: Record<string, string>): Promise<void> {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "src/cli/main.ts")],
    define,
    minify: true,
    sourcemap: "none",
    // Precompiled bytecode: the binary starts without parsing its bundle (`isol8 --version`
    // about 10 ms instead of 50 on the reference machine; bench/cold). ESM keeps main.ts's
    // top-level await.
    bytecode: true,
    format: "esm",
    // One chunk per command (main.ts imports each lazily): a command loads the bytecode of what
    // it uses, not the whole bundle (`isol8 --version` 21 -> 14 ms, bench/cold's daemon path
    // 46 -> 37 ms on the reference machine).
    splitting: true,
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

async function buildBinary(target: string, outfile: string, define: Record<string, string>): Promise<void> {
  await compileBinary(target, outfile, define).catch((error: Error) => fail(`compile for ${target} failed:\n${describe(error)}`));
}

/** The Node launcher as one CommonJS file (no dependencies left to install), executable. */
async function buildLauncher(outfile: string, define: Record<string, string>): Promise<void> {
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

/** What a release is built for: where, which targets, and the keys that sign it. */
interface ReleaseOptions {
  root: string;
  names: ReleaseTarget[];
  hostName: ReleaseTarget;
  signing: SigningKey[];
  trusted: string[];
}

async function buildRelease({ root, names, hostName, signing, trusted }: ReleaseOptions): Promise<void> {
  if (!isVersion(VERSION)) fail(`cannot release version "${VERSION}": it must look like 1.2.3`);
  const define = defineFor(trusted);
  const dir = join(root, versionDir(VERSION));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const built: ReleaseTarget[] = [];
  for (const name of names) {
    try {
      await compileBinary(`bun-${name}`, join(dir, binaryFileName(name)), define);
      built.push(name);
    } catch (error) {
      if (name === hostName) fail(`compile for ${name} failed:\n${describe(error)}`);
      console.error(`build: skipped ${name}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  if (!built.length) fail("no release binary could be built");
  const launcher = join(dir, LAUNCHER_FILE);
  await buildLauncher(launcher, define);
  if (built.includes(hostName)) {
    smoke(join(dir, binaryFileName(hostName)));
    smokeLauncher(launcher, join(dir, binaryFileName(hostName)));
  }

  const files = Object.fromEntries(built.map((name) => [name, { file: binaryFileName(name), sha256: sha256(join(dir, binaryFileName(name))) }]));
  const sums: ChecksumEntry[] = [...Object.values(files), { file: LAUNCHER_FILE, sha256: sha256(launcher) }];
  const sumsText = formatChecksums(sums);
  writeFileSync(join(dir, CHECKSUMS_FILE), sumsText);
  const signatures = signChecksums(VERSION, sumsText, signing);
  // The release must verify the way its launcher and binary will verify it.
  verifyChecksums({ version: VERSION, sums: sumsText, signatures, trustedKeys: trusted, sumsSource: CHECKSUMS_FILE, signatureSource: SIGNATURE_FILE });
  writeFileSync(join(dir, SIGNATURE_FILE), signatures);
  console.log(`build: signed ${CHECKSUMS_FILE} with ${signing.map((key) => key.publicKey).join(", ")}`);
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
const newKey = flag("new-signing-key");
if (newKey) newSigningKey(newKey);
const signing = signingKeys(flags("signing-key"));
const trusted = trustedKeys(signing);
await buildPlayground();
if (release) {
  const hostName = host.replace(/^bun-/, "");
  if (!isReleaseTarget(hostName)) fail(`cannot build a release on "${hostName}"`);
  if (!signing.length) fail("cannot build a release without --signing-key <file>: no launcher or isol8 would install it\nbuild: hint: create a key with bun build.ts --new-signing-key <file> (see README)");
  await buildRelease({ root: resolve(release), names: releaseNames(requested, hostName), hostName, signing, trusted });
} else {
  if (signing.length) fail("--signing-key signs a release: use it with --release <dir>");
  if (!trusted.length) console.log("build: no release key in src/update/release-keys.json: this build installs no release (see README)");
  const define = defineFor(trusted);
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  if (!process.argv.includes("--skip-library")) await buildLibrary(define);
  const targets = requested === "all" ? RELEASE_TARGETS.map((name) => `bun-${name}`) : requested === "host" ? [host] : requested.split(",");
  for (const target of targets) {
    const outfile = target === host ? join(DIST, "isol8") : join(DIST, `isol8-${target.replace(/^bun-/, "")}`);
    await buildBinary(target, outfile, define);
  }
  await buildLauncher(join(DIST, LAUNCHER_FILE), define);
  if (targets.includes(host)) {
    smoke(join(DIST, "isol8"));
    smokeLauncher(join(DIST, LAUNCHER_FILE), join(DIST, "isol8"));
  }
}
