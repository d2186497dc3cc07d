// Prints "N passed, N failed, N skipped" counted from a JUnit XML report (bun test
// --reporter=junit). A test file that failed to load (a syntax or import error) has no
// <testsuite> in the report at all: every *.test.ts file under the given roots that is missing
// from the report counts as one failure, named on stderr.
// Usage: node .ci/count-junit.mjs <report.xml> [root ...]   (roots default: src test)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const [report, ...given] = process.argv.slice(2);
const roots = given.length ? given : ["src", "test"];
const xml = readFileSync(report, "utf8");

let passed = 0;
let failed = 0;
let skipped = 0;
for (const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
  const body = match[2] ?? "";
  if (/<(failure|error)\b/.test(body)) failed++;
  else if (/<skipped\b/.test(body)) skipped++;
  else passed++;
}

const reported = new Set([...xml.matchAll(/<testsuite\b[^>]*\bfile="([^"]+)"/g)].map((m) => m[1]));
function testFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === "node_modules" || name.startsWith(".")) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return /\.test\.[cm]?[jt]sx?$/.test(name) ? [relative(".", path)] : [];
  });
}
for (const file of roots.flatMap(testFiles)) {
  if (reported.has(file)) continue;
  failed++;
  console.error(`count-junit: ${file} is not in the report (it failed to load): counted as failed`);
}

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
