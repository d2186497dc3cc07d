import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeBinaryText, fakeFetch, sha256, writeFakeBinary } from "../../test/fake-release";
import { ChecksumError, ReleaseError } from "./errors";
import { installBinary } from "./install";

const URL_ = "http://127.0.0.1:1/v2.0.0/isol8-linux-x64";
const NEW = fakeBinaryText("2.0.0");
let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "isol8-install-"));
  path = join(dir, "bin", "isol8");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const install = (body: string, options: { sha256?: string; version?: string; mode?: number } = {}) =>
  installBinary({
    url: URL_,
    sha256: options.sha256 ?? sha256(body),
    path,
    version: options.version ?? "2.0.0",
    mode: options.mode,
    fetch: fakeFetch(new Map([[URL_, body]])),
  });

/** Everything in the binary's directory: a failed install must leave no partial file. */
const entries = () => readdirSync(join(dir, "bin")).sort();

describe("installBinary", () => {
  test("installs into a missing directory, executable (0755)", async () => {
    await install(NEW);
    expect(readFileSync(path, "utf8")).toBe(NEW);
    expect(statSync(path).mode & 0o777).toBe(0o755);
    expect(entries()).toEqual(["isol8"]);
  });

  test("replaces an existing binary and applies the given mode", async () => {
    await install(fakeBinaryText("1.0.0"), { version: "1.0.0" });
    await install(NEW, { mode: 0o750 });
    expect(readFileSync(path, "utf8")).toBe(NEW);
    expect(statSync(path).mode & 0o777).toBe(0o750);
    expect(entries()).toEqual(["isol8"]);
  });

  test("a checksum mismatch is refused: the existing binary is untouched, no partial file", async () => {
    await install(fakeBinaryText("1.0.0"), { version: "1.0.0" });
    const before = readFileSync(path);
    const error = await install(NEW, { sha256: sha256("something else") }).catch((e) => e);
    expect(error).toBeInstanceOf(ChecksumError);
    expect(error.message).toContain(`Cannot install "${URL_}": its SHA-256 is ${sha256(NEW)}`);
    expect(readFileSync(path)).toEqual(before);
    expect(entries()).toEqual(["isol8"]);
  });

  test("a binary that reports another version (or does not run) is refused", async () => {
    writeFakeBinary(join(dir, "old"), "1.0.0");
    await expect(install(fakeBinaryText("3.0.0"))).rejects.toThrow("the binary reports version 3.0.0, expected 2.0.0");
    await expect(install("not a program")).rejects.toThrow("the binary does not run, expected 2.0.0");
    expect(entries()).toEqual([]);
  });

  test("an HTTP error is a ReleaseError naming the URL and status", async () => {
    const error = await installBinary({ url: `${URL_}.missing`, sha256: sha256(NEW), path, version: "2.0.0", fetch: fakeFetch(new Map()) }).catch((e) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect(error.message).toBe(`Cannot download "${URL_}.missing": the server answered 404 Not Found`);
    expect(entries()).toEqual([]);
  });

  test("an aborted download leaves no partial file", async () => {
    const abort = new AbortController();
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(1024));
        abort.abort();
      },
    });
    const fetch = async () => new Response(body);
    await expect(installBinary({ url: URL_, sha256: sha256(NEW), path, version: "2.0.0", fetch, signal: abort.signal })).rejects.toBeDefined();
    expect(entries()).toEqual([]);
  });

  test("a body larger than allowed is refused", async () => {
    await expect(
      installBinary({ url: URL_, sha256: sha256(NEW), path, version: "2.0.0", fetch: fakeFetch(new Map([[URL_, NEW]])), maxBytes: 10 }),
    ).rejects.toThrow("more than the 10 bytes allowed");
    expect(entries()).toEqual([]);
  });
});
