import { spawnSync } from "node:child_process";
import { isVersion } from "./versions";

/**
 * The version an isol8 binary prints for `--version`, or undefined when the file is
 * missing, does not run, fails, or prints something that is not a version.
 */
export function binaryVersion(path: string, timeoutMs = 30_000): string | undefined {
  const run = spawnSync(path, ["--version"], {
    encoding: "utf8",
    timeout: timeoutMs,
    stdio: ["ignore", "pipe", "ignore"],
    // A binary must not pick up a project's .env or config while being probed.
    cwd: "/",
  });
  if (run.error || run.status !== 0) return undefined;
  const out = run.stdout.trim();
  return isVersion(out) ? out : undefined;
}
