import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeBinaryText, fakeFetch, sha256, writeFakeBinary } from "../../test/fake-release";
import { ChecksumError, ReleaseError } from "./errors";
import { selfUpdate } from "./self-update";

const BASE = "http://127.0.0.1:1/releases";
const NEW = fakeBinaryText("2.0.0");
let dir: string;
let exe: string;

function release(version: string, body: string, sha = sha256(body), target = "linux-x64") {
  const manifest = { version, files: { [target]: { file: `isol8-${target}`, sha256: sha } } };
  return fakeFetch(
    new Map([
      [`${BASE}/latest/manifest.json`, JSON.stringify(manifest)],
      [`${BASE}/v${version}/isol8-${target}`, body],
    ]),
  );
}

const update = (fetch: ReturnType<typeof fakeFetch>, extra: { platform?: string; arch?: string; currentVersion?: string } = {}) =>
  selfUpdate({ baseUrl: BASE, currentVersion: "1.0.0", executablePath: exe, platform: "linux", arch: "x64", fetch, ...extra });

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
    expect(fetch.requests).toEqual([`${BASE}/latest/manifest.json`, `${BASE}/v2.0.0/isol8-linux-x64`]);
  });

  test("replaces the file a symlink points to, not the symlink", async () => {
    const link = join(dir, "link");
    symlinkSync(exe, link);
    await selfUpdate({ baseUrl: BASE, currentVersion: "1.0.0", executablePath: link, platform: "linux", arch: "x64", fetch: release("2.0.0", NEW) });
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
    const error = await update(release("2.0.0", `${NEW}# tampered\n`, sha256(NEW))).catch((e) => e);
    expect(error).toBeInstanceOf(ChecksumError);
    expect(readFileSync(exe)).toEqual(before);
  });

  test("a release without this platform, or an unsupported platform, is an error", async () => {
    await expect(update(release("2.0.0", NEW, undefined, "darwin-arm64"))).rejects.toThrow('has no binary for "linux-x64"');
    await expect(update(release("2.0.0", NEW), { platform: "win32" })).rejects.toThrow('no release binary exists for platform "win32-x64"');
  });

  test("a missing manifest is a ReleaseError with the URL", async () => {
    const error = await update(fakeFetch(new Map())).catch((e) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect(error.message).toBe(`Cannot download "${BASE}/latest/manifest.json": the server answered 404 Not Found`);
  });

  test("without an executablePath it refuses to replace the runtime running the sources", async () => {
    const error = await selfUpdate({ baseUrl: BASE, currentVersion: "1.0.0", platform: "linux", arch: "x64", fetch: release("2.0.0", NEW) }).catch((e) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect(error.message).toContain("isol8 is not running as its compiled binary");
  });
});
