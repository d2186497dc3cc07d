import { lstatSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where engines keep the sockets their containers reach: $ISOL8_RUN_DIR, else <tmp>/isol8. */
export function runDirBase(env: NodeJS.ProcessEnv = process.env): string {
  return env.ISOL8_RUN_DIR || join(tmpdir(), "isol8");
}

/** What lstat says of a directory, as far as ownership goes. */
export interface DirFacts {
  isDirectory: boolean;
  isSymbolicLink: boolean;
  uid: number;
  mode: number;
}

/**
 * Why `path` may not hold the engine's sockets, or null when it may: it must be a directory
 * (not a symlink) of this process's user that group and others cannot write. Another user's
 * directory (say a /tmp/isol8 made first by someone else) would let them swap in a socket of
 * their own, which a supervisor would then take for the engine's, or the proxy's. Pure.
 */
export function runDirProblem(path: string, facts: DirFacts, uid: number): string | null {
  if (facts.isSymbolicLink) return `${path} is a symbolic link`;
  if (!facts.isDirectory) return `${path} is not a directory`;
  if (facts.uid !== uid) return `${path} belongs to uid ${facts.uid}, not to this user (uid ${uid})`;
  const group = (facts.mode & 0o020) !== 0;
  const others = (facts.mode & 0o002) !== 0;
  if (group || others) return `${path} is writable by ${group && others ? "its group and others" : group ? "its group" : "others"} (mode ${(facts.mode & 0o7777).toString(8)})`;
  return null;
}

/** Creates `path` (0700) if it is missing, then checks it (runDirProblem); returns the problem or null. */
export function claimRunDir(path: string): string | null {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    const stat = lstatSync(path);
    const facts = { isDirectory: stat.isDirectory(), isSymbolicLink: stat.isSymbolicLink(), uid: stat.uid, mode: stat.mode };
    return runDirProblem(path, facts, process.getuid?.() ?? stat.uid);
  } catch (error) {
    return `${path}: ${(error as Error).message}`;
  }
}
