import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { UsageError } from "../../errors";

const SKIPPED = new Set([".git", "node_modules"]);

/**
 * Files for `--files`: a file lands as /sandbox/<name>; a directory as
 * /sandbox/<dir>/... (without .git and node_modules). Symlinks are not followed.
 */
export function collectLocalFiles(paths: readonly string[]): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  const walk = (local: string, target: string) => {
    const stat = lstatSync(local);
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) {
      for (const name of readdirSync(local).sort()) {
        if (!SKIPPED.has(name)) walk(join(local, name), `${target}/${name}`);
      }
    } else if (stat.isFile()) {
      out[target] = readFileSync(local);
    }
  };
  for (const path of paths) {
    if (!existsSync(path)) throw new UsageError(`File not found: ${path}`);
    const name = basename(path.replace(/\/+$/, ""));
    if (lstatSync(path).isDirectory() && (name === "." || name === "")) {
      for (const entry of readdirSync(path).sort()) if (!SKIPPED.has(entry)) walk(join(path, entry), `/sandbox/${entry}`);
    } else {
      walk(path, `/sandbox/${name}`);
    }
  }
  return out;
}
