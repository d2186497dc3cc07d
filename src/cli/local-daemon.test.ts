import { describe, expect, test } from "bun:test";
import { type PathFacts, daemonPaths, daemonVerdict } from "./local-daemon";

const UID = 1000;
const dir: PathFacts = { kind: "directory", uid: UID, mode: 0o40700 };
const socket: PathFacts = { kind: "socket", uid: UID, mode: 0o140600 };
const key: PathFacts = { kind: "file", uid: UID, mode: 0o100600 };
const ok = { dir, socket, key };

describe("daemonVerdict: the daemon's files must be the user's own", () => {
  test("all three the user's, owner-only: used", () => {
    expect(daemonVerdict(ok, UID)).toEqual({ use: true });
  });

  test.each<[string, Partial<typeof ok>, RegExp]>([
    ["no directory", { dir: null as unknown as PathFacts }, /its directory does not exist/],
    ["no socket (no daemon)", { socket: null as unknown as PathFacts }, /its socket does not exist/],
    ["no key file", { key: null as unknown as PathFacts }, /its key file does not exist/],
    ["the directory is another user's", { dir: { ...dir, uid: 0 } }, /its directory belongs to uid 0, not to you \(1000\)/],
    ["the directory is open to others", { dir: { ...dir, mode: 0o40755 } }, /its directory is open to group or others \(mode 755\)/],
    ["the directory is open to the group", { dir: { ...dir, mode: 0o40770 } }, /open to group or others \(mode 770\)/],
    ["the directory is a symlink", { dir: { ...dir, kind: "symlink" } }, /its directory is a symlink, not a directory/],
    ["the socket is another user's (planted)", { socket: { ...socket, uid: 4242 } }, /its socket belongs to uid 4242/],
    ["the socket is a symlink", { socket: { ...socket, kind: "symlink" } }, /its socket is a symlink, not a socket/],
    ["the socket is a regular file", { socket: { ...socket, kind: "file" } }, /its socket is a file, not a socket/],
    ["the key file is another user's", { key: { ...key, uid: 0 } }, /its key file belongs to uid 0/],
    ["the key file is readable by others", { key: { ...key, mode: 0o100644 } }, /its key file is open to group or others \(mode 644\)/],
    ["the key file is a symlink", { key: { ...key, kind: "symlink" } }, /its key file is a symlink/],
  ])("%s: not used", (_name, change, reason) => {
    const verdict = daemonVerdict({ ...ok, ...change }, UID);
    expect(verdict.use).toBe(false);
    expect(verdict.use ? "" : verdict.reason).toMatch(reason);
  });
});

describe("daemonPaths", () => {
  test.each<[string, NodeJS.ProcessEnv, string]>([
    ["ISOL8_DAEMON_DIR first", { ISOL8_DAEMON_DIR: "/d", XDG_RUNTIME_DIR: "/run/user/1000" }, "/d"],
    ["then XDG_RUNTIME_DIR/isol8", { XDG_RUNTIME_DIR: "/run/user/1000" }, "/run/user/1000/isol8"],
    ["else ~/.isol8/daemon", {}, "/home/u/.isol8/daemon"],
  ])("%s", (_name, env, expected) => {
    const paths = daemonPaths(env, "/home/u");
    expect(paths).toEqual({ dir: expected, socket: `${expected}/serve.sock`, key: `${expected}/key`, config: `${expected}/config-digest` });
  });
});
