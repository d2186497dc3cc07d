// The npm package as a TypeScript or JavaScript project gets it: `npm pack`, installed from the
// tarball into a scratch project (dependencies from npm's own cache or configured registry;
// no registry is named here), type-checked under moduleResolution NodeNext, Node16 and Bundler
// with library checking on, then an ESM script importing DockerIsol8, RemoteIsol8 and
// loadConfig runs a real print(1) under Node and under Bun.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { ROOT, TEST_SCOPE } from "../helpers";

let work: string;
let project: string;

const versionOf = (name: string) => JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version as string;

function sh(command: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}) {
  const run = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 180_000 });
  return { code: run.status ?? -1, stdout: run.stdout ?? "", stderr: run.stderr ?? "", error: run.error };
}

/** What a consumer writes in TypeScript: every import is type-checked against the packed declarations. */
const CONSUMER_TS = `
import { DockerIsol8, RemoteIsol8, loadConfig, outputBytes, RuntimeRegistry, createServer, type ExecutionResult, type StreamEvent, type Isol8 } from "isol8";

const config = loadConfig();
const max: number = config.maxConcurrent;
const { source } = loadConfig();
const engines: Isol8[] = [
  new DockerIsol8({ config, network: "filtered", poolSize: 1, memoryLimit: "64m", networkFilter: { whitelist: ["example\\\\.test"], blacklist: [] } }),
  new RemoteIsol8({ host: "http://127.0.0.1:3000", apiKey: "k" }, { network: "none" }),
];
async function use(engine: Isol8): Promise<number> {
  const result: ExecutionResult = await engine.execute({ code: "print(1)", runtime: "python", args: ["a"], stdin: new Uint8Array([1]) });
  for await (const event of engine.executeStream({ code: "print(1)" })) {
    const e: StreamEvent = event;
    if (e.type === "exit") return e.data.exitCode;
  }
  return outputBytes(result, "stdout").length + max + (source ? 1 : 0) + RuntimeRegistry.list().length;
}
void engines.map(use);
void createServer({ apiKey: "k" }).stop;
`;

/** What the ESM script does under Node and Bun. */
const CONSUMER_MJS = `
import { DockerIsol8, RemoteIsol8, loadConfig } from "isol8";
if (typeof RemoteIsol8 !== "function") throw new Error("RemoteIsol8 is missing");
const engine = new DockerIsol8({ config: loadConfig(), pool: false, scope: process.env.ISOL8_SCOPE });
await engine.start();
const result = await engine.execute({ code: "print(1)" });
await engine.stop();
process.stdout.write(result.stdout);
`;

const tsconfig = (module: string, moduleResolution: string) =>
  JSON.stringify({
    compilerOptions: { module, moduleResolution, target: "ES2022", lib: ["ES2023"], types: ["node"], strict: true, skipLibCheck: false, noEmit: true },
    files: ["consumer.ts"],
  });

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "isol8-pack-"));
  const packed = sh("npm", ["pack", "--pack-destination", work, "--ignore-scripts"], ROOT);
  if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
  project = join(work, "consumer");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  const installed = sh(
    "npm",
    [
      "install",
      join(work, tarball),
      `typescript@${versionOf("typescript")}`,
      `@types/node@${versionOf("@types/node")}`,
      "--prefer-offline",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
    ],
    project,
  );
  if (installed.code !== 0) throw new Error(`npm install of the tarball failed: ${installed.stderr}`);
  writeFileSync(join(project, "consumer.ts"), CONSUMER_TS);
  writeFileSync(join(project, "consumer.mjs"), CONSUMER_MJS);
}, 180_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed npm package in a consumer project", () => {
  test("the tarball holds the declarations, the library and the launcher, and nothing of the CLI's own dependencies is required", () => {
    const manifest = JSON.parse(readFileSync(join(project, "node_modules", "isol8", "package.json"), "utf8"));
    expect(Object.keys(manifest.dependencies)).not.toContain("citty");
    expect(Object.keys(manifest.dependencies)).not.toContain("consola");
    const files = readdirSync(join(project, "node_modules", "isol8", "dist"));
    expect(files).toEqual(expect.arrayContaining(["index.js", "index.d.ts", "launcher.cjs", "types"]));
    expect(manifest.version).toBe(pkg.version);
  });

  test.each([
    ["NodeNext", "NodeNext"],
    ["Node16", "Node16"],
    ["ESNext", "Bundler"],
  ])("tsc --noEmit passes with module %s, moduleResolution %s (library check on)", (module, resolution) => {
    writeFileSync(join(project, `tsconfig.${resolution}.json`), tsconfig(module, resolution));
    const tsc = sh(join(project, "node_modules", ".bin", "tsc"), ["-p", `tsconfig.${resolution}.json`], project);
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.code).toBe(0);
  }, 120_000);

  test.each([
    ["node", "node"],
    ["bun", join(ROOT, "node_modules", ".bin", "bun")],
  ])("an ESM script imports DockerIsol8, RemoteIsol8 and loadConfig and prints a real print(1) under %s", (_, runtime) => {
    const run = sh(runtime, ["consumer.mjs"], project, { ISOL8_SCOPE: TEST_SCOPE });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("1\n");
    expect(run.code).toBe(0);
  }, 120_000);
});
