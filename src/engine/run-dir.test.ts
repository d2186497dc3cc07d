import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claimRunDir, type DirFacts, runDirBase, runDirProblem } from "./run-dir";

const UID = 1000;
const dir = (overrides: Partial<DirFacts>): DirFacts => ({ isDirectory: true, isSymbolicLink: false, uid: UID, mode: 0o40700, ...overrides });

describe("runDirProblem", () => {
  const cases: [string, DirFacts, string | null][] = [
    ["the user's own 0700 directory", dir({}), null],
    ["0755: others may read, not write", dir({ mode: 0o40755 }), null],
    ["another user's", dir({ uid: 1001 }), "/r belongs to uid 1001, not to this user (uid 1000)"],
    ["root's, for a user", dir({ uid: 0 }), "/r belongs to uid 0, not to this user (uid 1000)"],
    ["writable by everyone", dir({ mode: 0o40777 }), "/r is writable by its group and others (mode 777)"],
    ["writable by others only", dir({ mode: 0o40703 }), "/r is writable by others (mode 703)"],
    ["writable by the group", dir({ mode: 0o40770 }), "/r is writable by its group (mode 770)"],
    ["sticky and world-writable (like /tmp)", dir({ mode: 0o41777 }), "/r is writable by its group and others (mode 1777)"],
    ["a symbolic link", dir({ isSymbolicLink: true, isDirectory: false }), "/r is a symbolic link"],
    ["a file", dir({ isDirectory: false }), "/r is not a directory"],
  ];
  test.each(cases)("%s", (_, facts, problem) => {
    expect(runDirProblem("/r", facts, UID)).toBe(problem);
  });
});

describe("runDirBase", () => {
  test("ISOL8_RUN_DIR, else <tmp>/isol8 (an empty value counts as unset)", () => {
    expect(runDirBase({ ISOL8_RUN_DIR: "/srv/isol8" })).toBe("/srv/isol8");
    expect(runDirBase({})).toBe(join(tmpdir(), "isol8"));
    expect(runDirBase({ ISOL8_RUN_DIR: "" })).toBe(join(tmpdir(), "isol8"));
  });
});

describe("claimRunDir (real directories)", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "isol8-run-dir-test-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("creates a missing directory 0700 and accepts it", () => {
    const path = join(root, "a", "b");
    expect(claimRunDir(path)).toBeNull();
    expect(statSync(path).mode & 0o777).toBe(0o700);
  });

  test("refuses one writable by others, a symbolic link and a file; accepts an existing own directory", () => {
    const open = join(root, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(claimRunDir(open)).toBe(`${open} is writable by its group and others (mode 777)`);
    const link = join(root, "link");
    symlinkSync(open, link);
    expect(claimRunDir(link)).toBe(`${link} is a symbolic link`);
    const file = join(root, "file");
    writeFileSync(file, "");
    expect(claimRunDir(file)).toContain(file);
    const own = join(root, "own");
    mkdirSync(own, { mode: 0o700 });
    expect(claimRunDir(own)).toBeNull();
  });

  test.if(process.getuid?.() === 0)("refuses another user's directory (made first, as /tmp/isol8 could be)", () => {
    const theirs = join(root, "theirs");
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 4242, 4242);
    expect(claimRunDir(theirs)).toBe(`${theirs} belongs to uid 4242, not to this user (uid 0)`);
  });
});
