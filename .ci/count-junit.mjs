// Prints "N passed, N failed, N skipped" counted from a JUnit XML report (bun test --reporter=junit).
import { readFileSync } from "node:fs";

const xml = readFileSync(process.argv[2], "utf8");
let passed = 0;
let failed = 0;
let skipped = 0;
for (const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
  const body = match[2] ?? "";
  if (/<(failure|error)\b/.test(body)) failed++;
  else if (/<skipped\b/.test(body)) skipped++;
  else passed++;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
