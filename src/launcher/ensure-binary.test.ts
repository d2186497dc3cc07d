import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeBinaryText, fakeFetch, releaseFiles, sha256, testSigningKey, writeFakeBinary } from "../../test/fake-release";
import { type EnsureBinaryOptions, ensureBinary } from "./ensure-binary";

const BASE = "http://127.0.0.1:1/rel";
const NEW = fakeBinaryText("2.0.0");
const SUMS_URL = `${BASE}/v2.0.0/SHA256SUMS`;
const SIG_URL = `${BASE}/v2.0.0/SHA256SUMS.sig`;
const BINARY_URL = `${BASE}/v2.0.0/isol8-linux-x64`;
const KEY = testSigningKey();
let dir: string;
let path: string;
let lines: string[];

/** Release 2.0.0 signed by KEY, with `changes` (URL → body, undefined removes) applied on top. */
function served(changes: Record<string, string | undefined> = {}) {
  const files = releaseFiles(BASE, "2.0.0", { "isol8-linux-x64": NEW }, [KEY]);
  for (const [url, body] of Object.entries(changes)) {
    if (body === undefined) files.delete(url);
    else files.set(url, body);
  }
  return fakeFetch(files);
}

const ensure = (fetch: ReturnType<typeof fakeFetch>, extra: Partial<EnsureBinaryOptions> = {}) =>
  ensureBinary({
    path,
    target: "linux-x64",
    version: "2.0.0",
    env: { ISOL8_RELEASE_URL: BASE },
    trustedKeys: [KEY.publicKey],
    interactive: false,
    confirm: () => {
      throw new Error("must not ask");
    },
    log: (line) => void lines.push(line),
    write: () => {},
    fetch,
    ...extra,
  });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "isol8-ensure-"));
  mkdirSync(join(dir, "bin"));
  path = join(dir, "bin", "isol8");
  lines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("ensureBinary", () => {
  test("missing → downloads without asking when no one is at a terminal", async () => {
    const fetch = served();
    expect(await ensure(fetch)).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(NEW);
    expect(fetch.requests).toEqual([SUMS_URL, SIG_URL, BINARY_URL]);
    expect(lines.at(-1)).toBe(`isol8: installed isol8 2.0.0 at ${path}`);
  });

  test("the same or a newer version is kept, nothing is fetched", async () => {
    for (const version of ["2.0.0", "2.1.0"]) {
      writeFakeBinary(path, version);
      const fetch = served();
      expect(await ensure(fetch)).toBe(true);
      expect(fetch.requests).toEqual([]);
      expect(readFileSync(path, "utf8")).toBe(fakeBinaryText(version));
    }
    expect(lines).toEqual([]);
  });

  test("an older or broken binary is replaced", async () => {
    writeFakeBinary(path, "1.0.0");
    expect(await ensure(served())).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(NEW);
    writeFakeBinary(path, "garbage");
    expect(await ensure(served())).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(NEW);
  });

  test("tampered binary: refused; an older working binary stays and is used", async () => {
    writeFakeBinary(path, "1.0.0");
    expect(await ensure(served({ [BINARY_URL]: `${NEW}echo owned\n` }))).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(fakeBinaryText("1.0.0"));
    expect(lines.join("\n")).toContain("its SHA-256 is");
    expect(lines.at(-1)).toBe("isol8: running the installed isol8 1.0.0 instead of 2.0.0");
    expect(readdirSync(join(dir, "bin"))).toEqual(["isol8"]);
  });

  test("tampered checksum file with nothing installed: false, nothing written", async () => {
    expect(await ensure(served({ [SUMS_URL]: `${sha256("x")}  isol8-linux-x64\n` }))).toBe(false);
    expect(lines.join("\n")).toContain('Cannot verify release "2.0.0": the signature by');
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(join(dir, "bin"))).toEqual([]);
  });

  test("a signed checksum file without this platform's binary is refused", async () => {
    const fetch = fakeFetch(releaseFiles(BASE, "2.0.0", { "isol8-darwin-arm64": NEW }, [KEY]));
    expect(await ensure(fetch)).toBe(false);
    expect(lines.join("\n")).toContain('lists no "isol8-linux-x64"');
  });

  test("on a terminal it asks first; no means no download", async () => {
    const questions: string[] = [];
    const fetch = served();
    const no = (q: string) => (questions.push(q), false);
    expect(await ensure(fetch, { interactive: true, confirm: no })).toBe(false);
    expect(questions).toEqual([`no isol8 binary at ${path}. Download isol8 2.0.0 (linux-x64) from ${BASE}?`]);
    expect(fetch.requests).toEqual([]);

    writeFakeBinary(path, "1.0.0");
    expect(await ensure(fetch, { interactive: true, confirm: no })).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(fakeBinaryText("1.0.0"));

    expect(await ensure(fetch, { interactive: true, confirm: () => true })).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(NEW);
  });

  test("a refused release URL is reported, not thrown", async () => {
    expect(await ensure(served(), { env: { ISOL8_RELEASE_URL: "http://mirror.example" } })).toBe(false);
    expect(lines[0]).toContain('Cannot use release URL "http://mirror.example"');
  });
});

describe("ensureBinary: release signatures", () => {
  const evil = "#!/bin/sh\necho 2.0.0\n";
  // Each row is a way to make the launcher install what the release's key did not sign.
  test.each([
    ["binary and SHA256SUMS replaced, hashes recomputed, old signature kept", { [BINARY_URL]: evil, [SUMS_URL]: `${sha256(evil)}  isol8-linux-x64\n` }, "the signature by"],
    ["re-signed with a key the launcher does not trust", Object.fromEntries(releaseFiles(BASE, "2.0.0", { "isol8-linux-x64": evil }, [testSigningKey()])), "it is signed only by"],
    ["signature file missing", { [SIG_URL]: undefined }, `it has no signature ("${SIG_URL}" is missing)`],
  ])("refused, the binary is never downloaded: %s", async (_, changes, state) => {
    const fetch = served(changes);
    expect(await ensure(fetch)).toBe(false);
    expect(lines.join("\n")).toContain(`Cannot verify release "2.0.0": ${state}`);
    expect(fetch.requests).not.toContain(BINARY_URL);
    expect(readdirSync(join(dir, "bin"))).toEqual([]);

    // With an older working binary installed, that one stays and is used.
    writeFakeBinary(path, "1.0.0");
    lines = [];
    expect(await ensure(served(changes))).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(fakeBinaryText("1.0.0"));
    expect(lines.at(-1)).toBe("isol8: running the installed isol8 1.0.0 instead of 2.0.0");
  });

  test("a launcher that trusts no key refuses before fetching anything, in one line and a hint", async () => {
    const fetch = served();
    expect(await ensure(fetch, { trustedKeys: [] })).toBe(false);
    expect(fetch.requests).toEqual([]);
    const [message, hint, ...rest] = lines.join("\n").split("\n");
    expect(message).toBe('isol8: Cannot verify release "2.0.0": this build trusts no release signing key');
    expect(hint).toStartWith("hint: this isol8 was built without release keys");
    expect(rest).toEqual([]);
  });

  test("a release signed by an old and a new key installs with either trusted", async () => {
    const next = testSigningKey();
    for (const trusted of [KEY, next]) {
      rmSync(path, { force: true });
      const fetch = fakeFetch(releaseFiles(BASE, "2.0.0", { "isol8-linux-x64": NEW }, [KEY, next]));
      expect(await ensure(fetch, { trustedKeys: [trusted.publicKey] })).toBe(true);
      expect(readFileSync(path, "utf8")).toBe(NEW);
    }
  });
});
