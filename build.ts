#!/usr/bin/env bun
/**
 * Builds isol8:
 *   dist/isol8            the standalone executable for this machine (CLI + server + embedded assets)
 *   dist/index.js, *.d.ts the library bundle, importable from Node and Bun
 *
 * Usage: bun build.ts [--targets host|all|bun-linux-arm64,...] [--skip-library]
 * Other targets are written as dist/isol8-<os>-<arch>; Bun fetches their runtimes itself.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "./package.json" with { type: "json" };

const ROOT = import.meta.dir;
const DIST = join(ROOT, "dist");
const VERSION = process.env.ISOL8_BUILD_VERSION ?? pkg.version;
const RELEASE_TARGETS = ["bun-linux-x64", "bun-linux-arm64", "bun-darwin-x64", "bun-darwin-arm64"] as const;
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

async function buildBinary(target: string, outfile: string): Promise<void> {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "src/cli/main.ts")],
    define,
    minify: true,
    sourcemap: "none",
    compile: {
      target: target as Bun.Build.CompileTarget,
      outfile,
      // The binary must behave the same wherever it runs: no .env or bunfig.toml of the cwd.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
  });
  if (!result.success) fail(`compile for ${target} failed:\n${result.logs.join("\n")}`);
  console.log(`build: ${outfile.replace(`${ROOT}/`, "")} (${target})`);
}

function smoke(binary: string): void {
  const run = spawnSync(binary, ["--version"], { encoding: "utf8", cwd: "/" });
  if (run.status !== 0 || run.stdout.trim() !== VERSION) {
    fail(`smoke test failed: ${binary} --version printed ${JSON.stringify(run.stdout.trim())} (exit ${run.status}), expected ${VERSION}`);
  }
  console.log(`build: smoke ok (${binary.replace(`${ROOT}/`, "")} --version = ${VERSION})`);
}

rmSync(DIST, { recursive: true, force: true });
mkdirSync(DIST, { recursive: true });
if (!process.argv.includes("--skip-library")) await buildLibrary();

const host = hostTarget();
const requested = flag("targets") ?? "host";
const targets = requested === "all" ? [...RELEASE_TARGETS] : requested === "host" ? [host] : requested.split(",");
for (const target of targets) {
  const outfile = target === host ? join(DIST, "isol8") : join(DIST, `isol8-${target.replace(/^bun-/, "")}`);
  await buildBinary(target, outfile);
}
if (targets.includes(host)) smoke(join(DIST, "isol8"));
