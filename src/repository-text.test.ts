// Checks over every tracked text file of the repository: no merge-conflict markers left in,
// no package registry's host name written down (code derives those from the package
// managers' own configuration), and no document named that the repository does not hold.
// Tests are scanned too.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { readHostAptSources } from "./engine/images/apt-sources";

const root = join(import.meta.dir, "..");

/** Tracked files, or null outside a git checkout (a packed copy): then there is nothing to check. */
function trackedFiles(): string[] | null {
  const listed = spawnSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" });
  if (listed.status !== 0) return null;
  return listed.stdout.split("\0").filter(Boolean);
}

function textOf(file: string): string | null {
  const bytes = readFileSync(join(root, file));
  return bytes.includes(0) ? null : bytes.toString("utf8");
}

/** Registry host names this machine's package managers are configured with. */
function registryHosts(): string[] {
  const hosts = new Set<string>();
  const npm = spawnSync("npm", ["config", "get", "registry"], { encoding: "utf8" });
  if (npm.status === 0 && npm.stdout.trim()) hosts.add(new URL(npm.stdout.trim()).hostname);
  for (const source of readHostAptSources()) {
    try {
      hosts.add(new URL(source.uri).hostname);
    } catch {
      // not a URL (a cdrom: or file: source): no host to look for
    }
  }
  return [...hosts].filter((host) => host.includes(".") && host !== "localhost");
}

const files = trackedFiles();

describe.skipIf(files === null)("tracked files", () => {
  test("no merge-conflict markers", () => {
    const marked = files!.filter((file) => {
      const text = textOf(file);
      return text !== null && /^(<{7} |>{7} |={7}$)/m.test(text);
    });
    expect(marked).toEqual([]);
  });

  test("no package registry host names", () => {
    const hosts = registryHosts();
    const named = files!.flatMap((file) => {
      const text = textOf(file);
      return text === null ? [] : hosts.filter((host) => text.includes(host)).map((host) => `${file}: ${host.replace(/\./g, "·")}`);
    });
    expect(named).toEqual([]);
  });

  test("every document a file names (a .md path) is in the repository", () => {
    const missing = files!.flatMap((file) => {
      const text = textOf(file);
      if (text === null) return [];
      const named = new Set(text.match(/[A-Za-z0-9_./-]*[A-Za-z0-9_-]+\.md\b/g) ?? []);
      // A name is resolved from the repository's root, from the file's folder, or from docs/.
      return [...named].filter((name) => ![root, join(root, dirname(file)), join(root, "docs")].some((dir) => existsSync(join(dir, name)))).map((name) => `${file}: ${name}`);
    });
    expect(missing).toEqual([]);
  });
});
