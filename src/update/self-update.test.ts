import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeBinaryText, fakeFetch, releaseFiles, sha256, type TestKey, testSigningKey, writeFakeBinary } from "../../test/fake-release";
import { ChecksumError, ReleaseError, SignatureError } from "./errors";
import { selfUpdate } from "./self-update";

const BASE = "http://127.0.0.1:1/releases";
const NEW = fakeBinaryText("2.0.0");
const KEY = testSigningKey();
let dir: string;
let exe: string;

/**
 * Release `version` signed by `keys` with `body` as its binary for `target`, and a latest
 * manifest naming it; `changes` (URL → body, undefined removes) are applied on top.
 */
function release(version: string, body: string, options: { target?: string; keys?: TestKey[]; changes?: Record<string, string | undefined> } = {}) {
  const target = options.target ?? "linux-x64";
  const files = releaseFiles(BASE, version, { [`isol8-${target}`]: body }, options.keys ?? [KEY]);
  const manifest = { version, files: { [target]: { file: `isol8-${target}`, sha256: sha256(body) } } };
  files.set(`${BASE}/latest/manifest.json`, JSON.stringify(manifest));
  for (const [url, text] of Object.entries(options.changes ?? {})) {
    if (text === undefined) files.delete(url);
    else files.set(url, text);
  }
  return fakeFetch(files);
}

const update = (fetch: ReturnType<typeof fakeFetch>, extra: { platform?: string; arch?: string; currentVersion?: string; trustedKeys?: string[] } = {}) =>
  selfUpdate({ baseUrl: BASE, currentVersion: "1.0.0", executablePath: exe, platform: "linux", arch: "x64", trustedKeys: [KEY.publicKey], fetch, ...extra });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "isol8-self-update-"));
  exe = join(dir, "isol8");
  writeFakeBinary(exe, "1.0.0");
  chmodSync(exe, 0o750);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("selfUpdate", () => {
  test("installs a newer latest release over the executable, keeping its permission bits", async () => {
    const fetch = release("2.0.0", NEW);
    expect(await update(fetch)).toEqual({ updated: true, from: "1.0.0", to: "2.0.0", latest: "2.0.0" });
    expect(readFileSync(exe, "utf8")).toBe(NEW);
    expect(statSync(exe).mode & 0o777).toBe(0o750);
    expect(fetch.requests).toEqual([`${BASE}/latest/manifest.json`, `${BASE}/v2.0.0/SHA256SUMS`, `${BASE}/v2.0.0/SHA256SUMS.sig`, `${BASE}/v2.0.0/isol8-linux-x64`]);
  });

  test("replaces the file a symlink points to, not the symlink", async () => {
    const link = join(dir, "link");
    symlinkSync(exe, link);
    await selfUpdate({ baseUrl: BASE, currentVersion: "1.0.0", executablePath: link, platform: "linux", arch: "x64", trustedKeys: [KEY.publicKey], fetch: release("2.0.0", NEW) });
    expect(readFileSync(exe, "utf8")).toBe(NEW);
  });

  test("the same or an older latest release changes nothing", async () => {
    const before = readFileSync(exe, "utf8");
    const same = release("1.0.0", NEW);
    expect(await update(same)).toEqual({ updated: false, from: "1.0.0", to: "1.0.0", latest: "1.0.0" });
    expect(await update(release("0.9.0", NEW))).toEqual({ updated: false, from: "1.0.0", to: "1.0.0", latest: "0.9.0" });
    expect(same.requests).toHaveLength(1);
    expect(readFileSync(exe, "utf8")).toBe(before);
  });

  test("a tampered binary is refused and the executable is untouched", async () => {
    const before = readFileSync(exe);
    const error = await update(release("2.0.0", NEW, { changes: { [`${BASE}/v2.0.0/isol8-linux-x64`]: `${NEW}# tampered\n` } })).catch((e) => e);
    expect(error).toBeInstanceOf(ChecksumError);
    expect(readFileSync(exe)).toEqual(before);
  });

  test("a release without this platform, or an unsupported platform, is an error", async () => {
    await expect(update(release("2.0.0", NEW, { target: "darwin-arm64" }))).rejects.toThrow(`"${BASE}/v2.0.0/SHA256SUMS" lists no "isol8-linux-x64"`);
    await expect(update(release("2.0.0", NEW), { platform: "win32" })).rejects.toThrow('no release binary exists for platform "win32-x64"');
  });

  test("a missing manifest is a ReleaseError with the URL", async () => {
    const error = await update(fakeFetch(new Map())).catch((e) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect(error.message).toBe(`Cannot download "${BASE}/latest/manifest.json": the server answered 404 Not Found`);
  });

  test("without an executablePath it refuses to replace the runtime running the sources", async () => {
    const error = await selfUpdate({ baseUrl: BASE, currentVersion: "1.0.0", platform: "linux", arch: "x64", trustedKeys: [KEY.publicKey], fetch: release("2.0.0", NEW) }).catch((e) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect(error.message).toContain("isol8 is not running as its compiled binary");
  });
});

describe("selfUpdate: release signatures", () => {
  const evil = fakeBinaryText("2.0.0").replace("exit 0", "echo owned; exit 0");
  const binaryUrl = `${BASE}/v2.0.0/isol8-linux-x64`;
  const evilManifest = JSON.stringify({ version: "2.0.0", files: { "linux-x64": { file: "isol8-linux-x64", sha256: sha256(evil) } } });
  // Each row is a way to make the updater install what the release's key did not sign.
  test.each([
    [
      "binary, SHA256SUMS and manifest replaced, hashes recomputed, old signature kept",
      release("2.0.0", NEW, { changes: { [binaryUrl]: evil, [`${BASE}/v2.0.0/SHA256SUMS`]: `${sha256(evil)}  isol8-linux-x64\n`, [`${BASE}/latest/manifest.json`]: evilManifest } }),
      "the signature by",
      [KEY.publicKey],
    ],
    ["re-signed with a key this build does not trust", release("2.0.0", evil, { keys: [testSigningKey()] }), "it is signed only by", [KEY.publicKey]],
    ["signature file missing", release("2.0.0", NEW, { changes: { [`${BASE}/v2.0.0/SHA256SUMS.sig`]: undefined } }), "it has no signature", [KEY.publicKey]],
    ["no trusted key in this build", release("2.0.0", NEW), "this build trusts no release signing key", []],
  ])("refused, nothing downloaded or installed: %s", async (_, fetch, state, trustedKeys) => {
    const before = readFileSync(exe);
    const error = await update(fetch, { trustedKeys }).catch((e) => e);
    expect(error).toBeInstanceOf(SignatureError);
    expect(error.message).toStartWith(`Cannot verify release "2.0.0": ${state}`);
    expect(fetch.requests).not.toContain(binaryUrl);
    expect(readFileSync(exe)).toEqual(before);
    expect(readdirSync(dir)).toEqual(["isol8"]);
  });

  test("the manifest cannot choose the file: it names launcher.cjs, the platform's binary is installed", async () => {
    const files = releaseFiles(BASE, "2.0.0", { "isol8-linux-x64": NEW, "launcher.cjs": fakeBinaryText("2.0.0").replace("exit", "# launcher\nexit") }, [KEY]);
    files.set(`${BASE}/latest/manifest.json`, JSON.stringify({ version: "2.0.0", files: { "linux-x64": { file: "launcher.cjs", sha256: sha256("x") } } }));
    const fetch = fakeFetch(files);
    await update(fetch);
    expect(readFileSync(exe, "utf8")).toBe(NEW);
    expect(fetch.requests).not.toContain(`${BASE}/v2.0.0/launcher.cjs`);
  });

  test("the manifest cannot choose the version's signed files: another version's SHA256SUMS and signature are refused", async () => {
    const old = releaseFiles(BASE, "1.5.0", { "isol8-linux-x64": fakeBinaryText("1.5.0") }, [KEY]);
    const fetch = release("2.0.0", NEW, {
      changes: {
        [`${BASE}/v2.0.0/SHA256SUMS`]: old.get(`${BASE}/v1.5.0/SHA256SUMS`),
        [`${BASE}/v2.0.0/SHA256SUMS.sig`]: old.get(`${BASE}/v1.5.0/SHA256SUMS.sig`),
      },
    });
    await expect(update(fetch)).rejects.toThrow('Cannot verify release "2.0.0": the signature by');
  });
});
