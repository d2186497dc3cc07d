import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { toSandboxPath } from "../../engine/paths";

/** Writes files read back from /sandbox under `dir`, keeping their path below /sandbox. */
export function writeOutputFiles(files: Record<string, string>, dir: string): string[] {
  const written: string[] = [];
  const root = resolve(dir);
  for (const [requested, base64] of Object.entries(files)) {
    const target = join(root, toSandboxPath(requested, "--output-path"));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, Buffer.from(base64, "base64"));
    written.push(target);
  }
  return written;
}
