// Prints "N passed, N failed" (the last line; skipped tests on the line before) counted from
// JUnit XML reports (bun test
// --reporter=junit). A test file that failed to load (a syntax or import error) has no
// <testsuite> in any report: every *.test.ts (and *.chaos.ts, *.scale.ts) file under the roots that is
// missing from the reports counts as one failure, named on stderr.
// Usage: node .ci/count-junit.mjs <report.xml>... [root ...]   (roots default: src test)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const args = process.argv.slice(2);
const reports = args.filter((a) => a.endsWith(".xml"));
const given = args.filter((a) => !a.endsWith(".xml"));
const roots = given.length ? given : ["src", "test"];
const xml = reports.map((file) => readFileSync(file, "utf8")).join("\n");

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
    return /\.(test|chaos|scale)\.[cm]?[jt]sx?$/.test(name) ? [relative(".", path)] : [];
  });
}
for (const file of roots.flatMap(testFiles)) {
  if (reported.has(file)) continue;
  failed++;
  console.error(`count-junit: ${file} is not in the report (it failed to load): counted as failed`);
}

if (skipped) console.log(`${skipped} skipped (not counted: tests that state they do not apply, e.g. the python zygote's under gVisor)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
