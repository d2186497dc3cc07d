// The opt-in local warm daemon: `isol8 serve --local` listens on a Unix socket in a directory
// only its user can enter; `isol8 run` uses it when that directory, the socket and the key file
// are the user's own and owner-only, and the daemon runs with the same configuration, and
// falls back to the one-shot path otherwise. Whoever can connect to the socket can run code
// as the daemon's user reaches Docker, and whoever could plant a socket there would receive
// the user's code and secrets: so nothing here is used unless every path is the user's own.
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, type Stats, unlinkSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface DaemonPaths {
  /** Owner-only directory holding the three files below. */
  dir: string;
  socket: string;
  /** The daemon's API key (random per start), 0600. */
  key: string;
  /** Digest of the daemon's effective configuration, 0600. */
  config: string;
}

/** Where the daemon lives: $ISOL8_DAEMON_DIR, else $XDG_RUNTIME_DIR/isol8, else ~/.isol8/daemon. Pure. */
export function daemonPaths(env: NodeJS.ProcessEnv, home: string = homedir()): DaemonPaths {
  const dir = env.ISOL8_DAEMON_DIR || (env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "isol8") : join(home, ".isol8", "daemon"));
  return { dir, socket: join(dir, "serve.sock"), key: join(dir, "key"), config: join(dir, "config-digest") };
}

/** What lstat says about one path (null: it does not exist). */
export type PathFacts = Pick<Stats, "uid" | "mode"> & { kind: "directory" | "socket" | "file" | "symlink" | "other" };

export type DaemonVerdict = { use: true } | { use: false; reason: string };

const kindOf = (stats: Stats): PathFacts["kind"] =>
  stats.isSymbolicLink() ? "symlink" : stats.isDirectory() ? "directory" : stats.isSocket() ? "socket" : stats.isFile() ? "file" : "other";

/**
 * Whether the daemon's files may be trusted by `uid`: the directory, the socket and the key
 * file exist, are of their kind (never a symlink), belong to `uid`, and the directory and the
 * key file give nothing to group or others. Pure (table-tested).
 */
export function daemonVerdict(facts: { dir: PathFacts | null; socket: PathFacts | null; key: PathFacts | null }, uid: number): DaemonVerdict {
  const checks: [string, PathFacts | null, PathFacts["kind"], boolean][] = [
    ["its directory", facts.dir, "directory", true],
    ["its socket", facts.socket, "socket", false],
    ["its key file", facts.key, "file", true],
  ];
  for (const [name, fact, kind, ownerOnly] of checks) {
    if (!fact) return { use: false, reason: `${name} does not exist` };
    if (fact.kind !== kind) return { use: false, reason: `${name} is a ${fact.kind}, not a ${kind}` };
    if (fact.uid !== uid) return { use: false, reason: `${name} belongs to uid ${fact.uid}, not to you (${uid})` };
    if (ownerOnly && (fact.mode & 0o077) !== 0) return { use: false, reason: `${name} is open to group or others (mode ${(fact.mode & 0o777).toString(8)})` };
  }
  return { use: true };
}

function factsOf(path: string): PathFacts | null {
  try {
    const stats = lstatSync(path);
    return { uid: stats.uid, mode: stats.mode, kind: kindOf(stats) };
  } catch {
    return null;
  }
}

/** The digest a daemon publishes and a client compares: the same effective configuration. */
export function configDigest(config: unknown): string {
  return createHash("sha256").update(JSON.stringify(config)).digest("hex");
}

export type LocalDaemon = { socket: string; key: string } | { reason: string };

/** The local daemon this user may use with this configuration, or why not. */
export function findLocalDaemon(paths: DaemonPaths, config: unknown, uid: number = process.getuid?.() ?? -1): LocalDaemon {
  const verdict = daemonVerdict({ dir: factsOf(paths.dir), socket: factsOf(paths.socket), key: factsOf(paths.key) }, uid);
  if (!verdict.use) return { reason: verdict.reason };
  const digest = factsOf(paths.config);
  if (!digest || digest.kind !== "file" || digest.uid !== uid) return { reason: "its configuration digest is missing or not yours" };
  try {
    if (readFileSync(paths.config, "utf8").trim() !== configDigest(config)) return { reason: "it runs with another configuration" };
    const key = readFileSync(paths.key, "utf8").trim();
    return key ? { socket: paths.socket, key } : { reason: "its key file is empty" };
  } catch (error) {
    return { reason: `its files cannot be read: ${(error as Error).message}` };
  }
}

/** fetch over the daemon's Unix socket (Bun's `unix` option). */
export function unixFetch(socket: string): typeof fetch {
  const viaSocket = (input: string | URL | Request, init?: RequestInit) => fetch(input, { ...init, unix: socket } as RequestInit);
  return Object.assign(viaSocket, { preconnect: fetch.preconnect }) as typeof fetch;
}

function writeOwnerOnly(path: string, text: string): void {
  try {
    unlinkSync(path);
  } catch {}
  const fd = openSync(path, "wx", 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes the daemon's directory (owner-only, refused when it exists and is not the user's own)
 * and writes a fresh key and the configuration digest; returns the key. A stale socket file is
 * removed by the caller once it knows no daemon answers on it.
 */
export function prepareDaemonDir(paths: DaemonPaths, config: unknown, uid: number = process.getuid?.() ?? -1): string {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const dir = factsOf(paths.dir);
  if (!dir || dir.kind !== "directory" || dir.uid !== uid) {
    throw new Error(`Cannot use "${paths.dir}" for the local daemon: it is not a directory of yours`);
  }
  chmodSync(paths.dir, 0o700);
  const key = randomBytes(32).toString("hex");
  writeOwnerOnly(paths.key, key);
  writeOwnerOnly(paths.config, configDigest(config));
  return key;
}
