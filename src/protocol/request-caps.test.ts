import { describe, expect, test } from "bun:test";
import { RequestError } from "../errors";
import { validateRequest } from "./execution";
import { REQUEST_CAPS } from "./request-caps";

const many = (count: number, value = "v") => Object.fromEntries(Array.from({ length: count }, (_, i) => [`K${i}`, value]));
const list = (count: number, item: (i: number) => string) => Array.from({ length: count }, (_, i) => item(i));

/** The field a request is refused for, or null when it is accepted. */
function refusedField(fields: Record<string, unknown>): string | null {
  try {
    validateRequest({ code: "1", ...fields });
    return null;
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    return error.field ?? "";
  }
}

describe("request caps: at the cap accepted, one over refused naming the field", () => {
  test.each<[string, Record<string, unknown>, string | null]>([
    ["env entries at the cap", { env: many(REQUEST_CAPS.envEntries) }, null],
    ["env entries over", { env: many(REQUEST_CAPS.envEntries + 1) }, "env"],
    ["env bytes over", { env: { A: "x".repeat(100_000), B: "x".repeat(100_000), C: "x".repeat(100_000), D: "x".repeat(100_000), E: "x".repeat(100_000), F: "x".repeat(100_000) } }, "env"],
    ["one env entry of 128 KiB", { env: { A: "x".repeat(128 * 1024) } }, "env"],
    ["one env entry just under 128 KiB", { env: { A: "x".repeat(128 * 1024 - 3) } }, null],
    ["secrets entries at the cap", { secrets: many(REQUEST_CAPS.secretEntries, "long-enough") }, null],
    ["secrets entries over", { secrets: many(REQUEST_CAPS.secretEntries + 1, "long-enough") }, "secrets"],
    ["secrets bytes over", { secrets: { A: "x".repeat(40_000), B: "x".repeat(40_000) } }, "secrets"],
    ["files at the cap", { files: Object.fromEntries(list(REQUEST_CAPS.files, (i) => `f${i}`).map((p) => [p, ""])) }, null],
    ["files over", { files: Object.fromEntries(list(REQUEST_CAPS.files + 1, (i) => `f${i}`).map((p) => [p, ""])) }, "files"],
    ["outputPaths at the cap", { outputPaths: list(REQUEST_CAPS.outputPaths, (i) => `o${i}`) }, null],
    ["outputPaths over", { outputPaths: list(REQUEST_CAPS.outputPaths + 1, (i) => `o${i}`) }, "outputPaths"],
    ["installPackages at the cap", { installPackages: list(REQUEST_CAPS.installPackages, (i) => `p${i}`) }, null],
    ["installPackages over", { installPackages: list(REQUEST_CAPS.installPackages + 1, (i) => `p${i}`) }, "installPackages"],
    ["args at the cap", { args: list(REQUEST_CAPS.args, (i) => `a${i}`) }, null],
    ["args over", { args: list(REQUEST_CAPS.args + 1, (i) => `a${i}`) }, "args"],
    ["args bytes over", { args: list(3, () => "x".repeat(100_000)) }, "args"],
    ["one argument of 128 KiB", { args: ["x".repeat(128 * 1024)] }, "args"],
    ["an argument with a NUL byte", { args: ["a\0b"] }, "args.0"],
    ["programFile: a plain name", { programFile: "solve.py" }, null],
    ["programFile: a path", { programFile: "../etc/x.py" }, "programFile"],
    ["programFile: hidden", { programFile: ".x.py" }, "programFile"],
    ["programFile: an option-like name", { programFile: "-x.py" }, "programFile"],
    ["stdin as { base64 }", { stdin: { base64: "AP8=" } }, null],
    ["stdin as bad base64", { stdin: { base64: "%%" } }, "stdin.base64"],
    ["allow over", { allow: list(REQUEST_CAPS.hostPatterns + 1, (i) => `h${i}`) }, "allow"],
    ["deny over", { deny: list(REQUEST_CAPS.hostPatterns + 1, (i) => `h${i}`) }, "deny"],
    ["metadata at the cap", { metadata: { note: "x".repeat(REQUEST_CAPS.metadataBytes - 20) } }, null],
    ["metadata over", { metadata: { note: "x".repeat(REQUEST_CAPS.metadataBytes) } }, "metadata"],
    ["metadata with a bigint", { metadata: { n: 1n } }, "metadata"],
  ])("%s", (_name, fields, field) => {
    expect(refusedField(fields)).toBe(field);
  });

  test("the message names the cap", () => {
    expect(() => validateRequest({ code: "1", env: many(REQUEST_CAPS.envEntries + 1) })).toThrow("env: at most 1000 entries");
  });
});

describe("secrets: a minimum length (G6)", () => {
  test.each<[string, string, boolean]>([
    ["one character", "1", false],
    ["three characters", "the", false],
    ["four characters", "abcd", true],
    ["two two-byte characters (4 bytes)", "ßß", true],
    ["one four-byte character", "😀", true],
    ["one three-byte character", "€", false],
  ])("%s: accepted %p", (_name, value, accepted) => {
    expect(refusedField({ secrets: { B: value } })).toBe(accepted ? null : "secrets.B");
  });

  test("the message names the key, never the value", () => {
    try {
      validateRequest({ code: "1", secrets: { MY_TOKEN: "zq9" } });
      throw new Error("accepted");
    } catch (error) {
      expect(error).toBeInstanceOf(RequestError);
      const message = (error as Error).message;
      expect(message).toContain("secrets.MY_TOKEN");
      expect(message).toContain("at least 4 bytes");
      expect(message).not.toContain("zq9");
    }
  });

  test("still works: plain env values of any length", () => {
    expect(refusedField({ env: { B: "t" } })).toBeNull();
  });
});

describe("files as base64", () => {
  test("a 9.9 MB file in base64 is accepted; a bad character or length is refused", () => {
    const big = Buffer.alloc(9_900_000, 0xa5).toString("base64");
    expect(refusedField({ files: { "in.bin": { base64: big } } })).toBeNull();
    expect(refusedField({ files: { "in.bin": { base64: "ab!d" } } })).toBe("files.in.bin.base64");
    expect(refusedField({ files: { "in.bin": { base64: "abc" } } })).toBe("files.in.bin.base64");
  });
});
