// The launcher runs on plain Node before any isol8 binary exists: nothing it imports,
// directly or through src/update/, may use Bun's APIs or a package outside node: (but the
// pure-JavaScript packages below, which build.ts bundles into dist/launcher.cjs).
import { expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Packages bundled into the launcher: plain JavaScript that runs on any Node. */
const BUNDLED = new Set(["semver"]);

function importsOf(file: string): string[] {
  const code = readFileSync(file, "utf8").replace(/^\s*\/\/.*$/gm, "");
  return [...code.matchAll(/^\s*(?:import|export)\s+(?:type\s+)?[\w$\s,{}*]*?\s*from\s*["']([^"']+)["']/gm)]
    .filter((m) => !/^\s*(?:import|export)\s+type\s/.test(m[0]))
    .map((m) => m[1]!);
}

test("the launcher's import graph uses only node: built-ins (and bundled plain-JS packages), no Bun global", () => {
  const seen = new Set<string>();
  const problems: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, "utf8").replace(/^\s*(?:\/\/|\*).*$/gm, "");
    if (/\bBun\s*\./.test(code)) problems.push(`${file} uses Bun.*`);
    for (const spec of importsOf(file)) {
      if (spec.startsWith(".")) {
        const target = ["", ".ts", "/index.ts"].map((ext) => resolve(dirname(file), spec) + ext).find((p) => existsSync(p) && statSync(p).isFile());
        if (!target) problems.push(`${file}: cannot resolve ${spec}`);
        else if (target.endsWith(".ts")) visit(target);
      } else if (!spec.startsWith("node:") && !BUNDLED.has(spec)) problems.push(`${file} imports "${spec}"`);
    }
  };
  visit(join(import.meta.dir, "main.ts"));
  expect(problems).toEqual([]);
  expect([...seen].some((f) => f.includes("/update/install.ts"))).toBe(true);
});
