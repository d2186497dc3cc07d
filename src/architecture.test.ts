// Keeps the layout rules of docs/ARCHITECTURE.md true by scanning the source: which module may
// import what, and who may end the process or open a server. Tests are not scanned.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";

/** One import (or re-export, dynamic import, require) found in a source file. */
interface Import {
  /** The module specifier as written. */
  spec: string;
  /** Repository-relative path for relative specifiers, without extension (`src/errors`); else the specifier. */
  target: string;
  /** `import type` / `export type`: erased at compile time. */
  typeOnly: boolean;
}

interface ImportRule {
  rule: string;
  /** Files the rule applies to (repository-relative paths). */
  appliesTo: (file: string) => boolean;
  /** True when the file may have this import. */
  allows: (imp: Import, file: string) => boolean;
}

interface CallRule {
  rule: string;
  pattern: RegExp;
  /** Files that may contain the pattern. */
  allowedIn: (file: string) => boolean;
}

const under = (...dirs: string[]) => (file: string) => dirs.some((dir) => file.startsWith(dir));
const everyFile = () => true;
const isPackage = (name: string) => (imp: Import) => imp.spec === name || imp.spec.startsWith(`${name}/`);
const sibling = (imp: Import, file: string) => imp.spec.startsWith("./") && posix.dirname(imp.target) === posix.dirname(file);

// ---------------------------------------------------------------------------------------
// The rules (docs/ARCHITECTURE.md, "Layers"). Edit this table, not the scanner, when the design changes.
// ---------------------------------------------------------------------------------------
const IMPORT_RULES: ImportRule[] = [
  {
    rule: 'only src/engine/docker.ts imports "dockerode" (type-only imports are erased and allowed in engine/)',
    appliesTo: everyFile,
    allows: (imp, file) => !isPackage("dockerode")(imp) || file === "src/engine/docker.ts" || (imp.typeOnly && file.startsWith("src/engine/")),
  },
  {
    rule: 'only src/engine/network/host-pattern.ts imports "re2js" (host patterns are compiled in one place, with its limits)',
    appliesTo: everyFile,
    allows: (imp, file) => !isPackage("re2js")(imp) || file === "src/engine/network/host-pattern.ts",
  },
  {
    rule: "only src/assets.ts imports from embedded/",
    appliesTo: everyFile,
    allows: (imp, file) => !imp.target.startsWith("embedded/") || file === "src/assets.ts",
  },
  {
    rule: "only src/assets.ts imports the playground's page (playground/ and its generated bundle)",
    appliesTo: (file) => file.startsWith("src/"),
    allows: (imp, file) => !imp.target.startsWith("playground/") || file === "src/assets.ts",
  },
  {
    rule: "the playground (browser code) imports from src/ only protocol/ (no engine, server, Node or Bun code)",
    appliesTo: under("playground/"),
    allows: (imp) => !imp.target.startsWith("src/") || imp.target.startsWith("src/protocol/"),
  },
  {
    rule: 'only server/metrics.ts imports "prom-client"',
    appliesTo: everyFile,
    allows: (imp, file) => !isPackage("prom-client")(imp) || file === "src/server/metrics.ts",
  },
  {
    rule: 'only the config\'s JSON Schema, the OpenAPI document and the MCP tool schemas import "@valibot/to-json-schema"',
    appliesTo: everyFile,
    allows: (imp, file) =>
      !isPackage("@valibot/to-json-schema")(imp) || ["src/config/json-schema.ts", "src/server/openapi.ts", "src/mcp/tool-schemas.ts"].includes(file),
  },
  {
    rule: 'only mcp/ imports the MCP SDK ("@modelcontextprotocol/sdk")',
    appliesTo: everyFile,
    allows: (imp, file) => !isPackage("@modelcontextprotocol/sdk")(imp) || file.startsWith("src/mcp/"),
  },
  {
    rule: "mcp/ imports nothing of engine/, server/, client/ or cli/: its bindings pass the engines and the policy in",
    appliesTo: under("src/mcp/"),
    allows: (imp) => !["src/engine/", "src/server/", "src/client/", "src/cli/"].some((dir) => imp.target.startsWith(dir)),
  },
  {
    rule: "runtimes/ imports nothing but types and its siblings (the registry also node:path and ../errors)",
    appliesTo: under("src/runtimes/"),
    allows: (imp, file) =>
      (imp.typeOnly && imp.target.startsWith("src/")) ||
      sibling(imp, file) ||
      (file === "src/runtimes/registry.ts" && (imp.spec === "node:path" || imp.target === "src/errors")),
  },
  {
    rule: "client/ imports nothing of engine/ or server/, not even types: it shares them through protocol/",
    appliesTo: under("src/client/"),
    allows: (imp) => !imp.target.startsWith("src/engine/") && !imp.target.startsWith("src/server/"),
  },
  {
    rule: "server/ shares types with the engine only through protocol/: only the files that construct it (server-core.ts, and the entries serve.ts and create-server.ts) import engine/",
    appliesTo: under("src/server/"),
    allows: (imp, file) =>
      !imp.target.startsWith("src/engine/") || ["src/server/serve.ts", "src/server/server-core.ts", "src/server/create-server.ts"].includes(file),
  },
  {
    rule: "store/ (the key store) imports only protocol/ and its siblings: no engine, server, client or CLI",
    appliesTo: under("src/store/"),
    allows: (imp, file) => !imp.target.startsWith("src/") || sibling(imp, file) || imp.target.startsWith("src/protocol/"),
  },
  {
    rule: "the server reaches the key store through its tenancy (tenancy.ts, key-service.ts, quotas.ts, instance.ts, key-routes.ts) and the entries that open it",
    appliesTo: under("src/server/"),
    allows: (imp, file) =>
      imp.typeOnly ||
      !imp.target.startsWith("src/store/") ||
      ["tenancy", "key-service", "quotas", "instance", "key-routes", "server-core", "serve"].some((name) => file === `src/server/${name}.ts`),
  },
  {
    rule: "lib/ knows nothing of isol8: it imports no project module but its siblings",
    appliesTo: under("src/lib/"),
    allows: (imp, file) => !imp.target.startsWith("src/") || sibling(imp, file),
  },
  {
    rule: "only protocol/sse.ts parses SSE (eventsource-parser)",
    appliesTo: everyFile,
    allows: (imp, file) => !isPackage("eventsource-parser")(imp) || file === "src/protocol/sse.ts",
  },
  {
    rule: "engine/ does not depend on cli/, server/ or client/",
    appliesTo: under("src/engine/"),
    allows: (imp) => !["src/cli/", "src/server/", "src/client/"].some((dir) => imp.target.startsWith(dir)),
  },
  {
    rule: "doctor/ uses the engine like any library user: it imports nothing of cli/, server/ or client/",
    appliesTo: under("src/doctor/"),
    allows: (imp) => !["src/cli/", "src/server/", "src/client/"].some((dir) => imp.target.startsWith(dir)),
  },
  {
    rule: "only cli/ imports doctor/ (the doctor is a command, not part of the engine, server or library)",
    appliesTo: (file) => !file.startsWith("src/doctor/") && !file.startsWith("src/cli/"),
    allows: (imp) => !imp.target.startsWith("src/doctor/"),
  },
  {
    rule: "config/ depends on protocol/ and the runtime list only (not engine/, cli/, server/ or client/)",
    appliesTo: under("src/config/"),
    allows: (imp) =>
      !["src/engine/", "src/cli/", "src/server/", "src/client/"].some((dir) => imp.target.startsWith(dir)) &&
      (!imp.target.startsWith("src/runtimes/") || imp.target === "src/runtimes/registry"),
  },
  {
    rule: "protocol/ holds types and schemas: it imports valibot, eventsource-parser, errors, the runtime list and its siblings only",
    appliesTo: under("src/protocol/"),
    allows: (imp, file) =>
      imp.typeOnly ||
      isPackage("valibot")(imp) ||
      isPackage("eventsource-parser")(imp) ||
      sibling(imp, file) ||
      imp.target === "src/errors" ||
      imp.target === "src/runtimes/registry",
  },
];

const CALL_RULES: CallRule[] = [
  {
    rule: "only cli/ (and the server entry) call process.exit",
    pattern: /\bprocess\s*\.\s*exit\s*\(/,
    allowedIn: (file) => file.startsWith("src/cli/") || file === "src/server/serve.ts",
  },
  {
    rule: "in cli/, only cli/std-streams.ts touches process.stdout, process.stderr and process.stdin (writes through descriptors; Node's streams opened there are flushed at exit)",
    pattern: /\bprocess\s*\.\s*(?:stdout|stderr|stdin)\b/,
    allowedIn: (file) => !file.startsWith("src/cli/") || file === "src/cli/std-streams.ts",
  },
  {
    rule: "only cli/ (and the server entry) call Bun.serve",
    pattern: /\bBun\s*\.\s*serve\s*\(/,
    allowedIn: (file) => file.startsWith("src/cli/") || file === "src/server/serve.ts",
  },
  {
    rule: "only server/connection-gate.ts opens raw TCP listeners and connections with Bun (Bun.listen, Bun.connect): the gate in front of Bun.serve",
    pattern: /\bBun\s*\.\s*(?:listen|connect)\b/,
    allowedIn: (file) => file === "src/server/connection-gate.ts",
  },
  {
    rule: "only engine/labels.ts spells the org.isol8. label prefix",
    pattern: /["'`]org\.isol8\./,
    allowedIn: (file) => file === "src/engine/labels.ts",
  },
  {
    rule: "only protocol/sse.ts writes SSE frames (a data: field)",
    pattern: /["'`]data: /,
    allowedIn: (file) => file === "src/protocol/sse.ts",
  },
  {
    rule: "no path probing for embedded/ outside src/assets.ts",
    pattern: /["'`](?:[^"'`\n]*\/)?embedded(?:\/[^"'`\n]*)?["'`]/,
    allowedIn: (file) => file === "src/assets.ts",
  },
];
// ---------------------------------------------------------------------------------------

const ROOT = join(import.meta.dir, "..");
const SOURCE = /\.(?:ts|tsx|mts|cts|js|mjs|cjs)$/;
const TEST = /\.test\.[cm]?[jt]sx?$/;

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(name) && !TEST.test(name)) out.push(relative(ROOT, path).split("\\").join("/"));
  }
  return out;
}

/** Drops comment lines (`//`, `/*`, ` * `) and trailing `// ...` comments, so prose never counts as code. */
function stripComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (block) => block.replace(/[^\n]/g, " "))
    .split("\n")
    .map((line) => (/^\s*\/\//.test(line) ? "" : line.replace(/\s\/\/\s.*$/, "")))
    .join("\n");
}

/** The imports of one file's text; `file` is its repository-relative path. */
function findImports(text: string, file: string): Import[] {
  const code = stripComments(text);
  const found: { spec: string; typeOnly: boolean }[] = [];
  const staticForm = /^\s*(?:import|export)\s+(type\s+)?[\w$\s,{}*]*?\s*from\s*["']([^"']+)["']/gm;
  const bareForm = /^\s*import\s*["']([^"']+)["']/gm;
  const callForm = /\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of code.matchAll(staticForm)) found.push({ spec: m[2]!, typeOnly: Boolean(m[1]) });
  for (const m of code.matchAll(bareForm)) found.push({ spec: m[1]!, typeOnly: false });
  for (const m of code.matchAll(callForm)) found.push({ spec: m[1]!, typeOnly: false });
  return found.map(({ spec, typeOnly }) => ({ spec, typeOnly, target: resolveTarget(spec, file) }));
}

function resolveTarget(spec: string, file: string): string {
  if (!spec.startsWith(".")) return spec;
  const path = posix.normalize(posix.join(posix.dirname(file), spec));
  return path.replace(/\.(?:ts|tsx|mts|js|mjs)$/, "").replace(/\/index$/, "");
}

const FILES = [...sourceFiles(join(ROOT, "src")), ...sourceFiles(join(ROOT, "playground"))];

describe("architecture (docs/ARCHITECTURE.md)", () => {
  test("the scanner sees the source tree", () => {
    expect(FILES).toContain("src/engine/docker.ts");
    expect(FILES).toContain("src/assets.ts");
    expect(FILES.some((file) => TEST.test(file))).toBe(false);
  });

  test.each(IMPORT_RULES.map((r) => [r.rule, r] as const))("%s", (_, rule) => {
    const violations: string[] = [];
    for (const file of FILES.filter(rule.appliesTo)) {
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const imp of findImports(text, file)) {
        if (!rule.allows(imp, file)) violations.push(`${file} imports ${imp.typeOnly ? "type from " : ""}"${imp.spec}"`);
      }
    }
    expect(violations).toEqual([]);
  });

  test.each(CALL_RULES.map((r) => [r.rule, r] as const))("%s", (_, rule) => {
    const violations = FILES.filter((file) => !rule.allowedIn(file)).filter((file) =>
      rule.pattern.test(stripComments(readFileSync(join(ROOT, file), "utf8"))),
    );
    expect(violations).toEqual([]);
  });
});

describe("the import scanner", () => {
  const sample = [
    "// import x from \"commented-out\";",
    "/* import y from \"block-comment\"; */",
    'import Docker from "dockerode";',
    'import type { A } from "./types";',
    'import { type B, c } from "../errors";',
    "import {",
    "  d,",
    "  type E,",
    '} from "./multi-line";',
    'import * as v from "valibot";',
    'export { f } from "./re-export";',
    'export type { G } from "./type-re-export";',
    'export * from "./star";',
    'import "./side-effect";',
    'const lazy = () => import("./lazy");',
    'import data from "../../embedded/x.json" with { type: "json" };',
    'const s = "from \\"not-an-import\\"";',
  ].join("\n");

  test("finds static, multi-line, type-only, re-export, side-effect and dynamic imports", () => {
    const imports = findImports(sample, "src/engine/sample.ts");
    expect(imports.map((i) => [i.spec, i.target, i.typeOnly]).sort()).toEqual(
      [
        ["dockerode", "dockerode", false],
        ["./types", "src/engine/types", true],
        ["../errors", "src/errors", false],
        ["./multi-line", "src/engine/multi-line", false],
        ["valibot", "valibot", false],
        ["./re-export", "src/engine/re-export", false],
        ["./type-re-export", "src/engine/type-re-export", true],
        ["./star", "src/engine/star", false],
        ["./side-effect", "src/engine/side-effect", false],
        ["./lazy", "src/engine/lazy", false],
        ["../../embedded/x.json", "embedded/x.json", false],
      ].sort(),
    );
  });

  test("the rules catch violations", () => {
    const file = "src/cli/sample.ts";
    const imports = findImports(sample, file);
    const broken = IMPORT_RULES.filter((rule) => rule.appliesTo(file))
      .filter((rule) => imports.some((imp) => !rule.allows(imp, file)))
      .map((r) => r.rule);
    expect(broken).toHaveLength(2);
    expect(broken[0]).toContain("dockerode");
    expect(broken[1]).toContain("embedded/");
    const runtimeFile = "src/runtimes/sample.ts";
    const runtimeRule = IMPORT_RULES.find((r) => r.rule.startsWith("runtimes/"))!;
    expect(findImports('import { x } from "../config/schema";', runtimeFile).every((i) => runtimeRule.allows(i, runtimeFile))).toBe(false);
    expect(findImports('import type { x } from "../config/schema";', runtimeFile).every((i) => runtimeRule.allows(i, runtimeFile))).toBe(true);
    expect(findImports('import { python } from "./python";', runtimeFile).every((i) => runtimeRule.allows(i, runtimeFile))).toBe(true);
  });

  test("call rules ignore comments but not code", () => {
    const exit = CALL_RULES[0]!.pattern;
    expect(exit.test(stripComments("// we never call process.exit(1) here"))).toBe(false);
    expect(exit.test(stripComments("foo(); // process.exit(1) is for the cli"))).toBe(false);
    expect(exit.test(stripComments("if (x) process.exit(1);"))).toBe(true);
    const label = CALL_RULES.find((r) => r.rule.includes("org.isol8."))!.pattern;
    expect(label.test(stripComments('const l = { "org.isol8.owner": x };'))).toBe(true);
    expect(label.test(stripComments("// the org.isol8.owner label"))).toBe(false);
    const sse = CALL_RULES.find((r) => r.rule.includes("SSE"))!.pattern;
    expect(sse.test("enqueue(`data: ${json}\\n\\n`)")).toBe(true);
    const probe = CALL_RULES.find((r) => r.rule.startsWith("no path probing"))!.pattern;
    expect(probe.test('join(import.meta.dir, "..", "embedded", "x")')).toBe(true);
    expect(probe.test('readFileSync("../embedded/seccomp.json")')).toBe(true);
    expect(probe.test('const embeddedProfile = "strict"')).toBe(false);
  });
});
