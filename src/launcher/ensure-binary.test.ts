import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeBinaryText, fakeFetch, sha256, writeFakeBinary } from "../../test/fake-release";
import { type EnsureBinaryOptions, ensureBinary } from "./ensure-binary";

const BASE = "http://127.0.0.1:1/rel";
const NEW = fakeBinaryText("2.0.0");
let dir: string;
let path: string;
let lines: string[];

function served(body = NEW, sums = `${sha256(NEW)}  isol8-linux-x64\n`) {
  return fakeFetch(
    new Map([
      [`${BASE}/v2.0.0/SHA256SUMS`, sums],
      [`${BASE}/v2.0.0/isol8-linux-x64`, body],
    ]),
  );
}

const ensure = (fetch: ReturnType<typeof fakeFetch>, extra: Partial<EnsureBinaryOptions> = {}) =>
  ensureBinary({
    path,
    target: "linux-x64",
    version: "2.0.0",
    env: { ISOL8_RELEASE_URL: BASE },
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
    expect(fetch.requests).toEqual([`${BASE}/v2.0.0/SHA256SUMS`, `${BASE}/v2.0.0/isol8-linux-x64`]);
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
    expect(await ensure(served(`${NEW}echo owned\n`))).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(fakeBinaryText("1.0.0"));
    expect(lines.join("\n")).toContain("its SHA-256 is");
    expect(lines.at(-1)).toBe("isol8: running the installed isol8 1.0.0 instead of 2.0.0");
    expect(readdirSync(join(dir, "bin"))).toEqual(["isol8"]);
  });

  test("tampered checksum file with nothing installed: false, nothing written", async () => {
    expect(await ensure(served(NEW, `${sha256("x")}  isol8-linux-x64\n`))).toBe(false);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(join(dir, "bin"))).toEqual([]);
  });

  test("a checksum file without this platform's binary is refused", async () => {
    expect(await ensure(served(NEW, `${sha256(NEW)}  isol8-darwin-arm64\n`))).toBe(false);
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
