import { describe, expect, test } from "bun:test";
import { ReleaseError } from "./errors";
import { createManifest, parseManifest } from "./manifest";

const sha = "c".repeat(64);

describe("release manifest", () => {
  test("round trip", () => {
    const manifest = createManifest("1.2.3", { "linux-x64": { file: "isol8-linux-x64", sha256: sha } });
    expect(parseManifest(JSON.stringify(manifest), "m")).toEqual({ version: "1.2.3", files: { "linux-x64": { file: "isol8-linux-x64", sha256: sha } } });
  });

  test.each([
    ["not JSON", "{", "it is not JSON"],
    ["a bad version", JSON.stringify({ version: "../../x", files: {} }), "version: must be a version like 1.2.3"],
    ["a path as file name", JSON.stringify({ version: "1.0.0", files: { "linux-x64": { file: "../evil", sha256: sha } } }), "files.linux-x64.file: must be a plain file name"],
    ["a dot file", JSON.stringify({ version: "1.0.0", files: { "linux-x64": { file: ".hidden", sha256: sha } } }), "must be a plain file name"],
    ["a short checksum", JSON.stringify({ version: "1.0.0", files: { "linux-x64": { file: "f", sha256: "abc" } } }), "files.linux-x64.sha256: must be 64 lower-case hex digits"],
    ["no files", JSON.stringify({ version: "1.0.0" }), "files:"],
  ])("refuses %s", (_, text, message) => {
    expect(() => parseManifest(text, "http://r/latest/manifest.json")).toThrow(ReleaseError);
    expect(() => parseManifest(text, "http://r/latest/manifest.json")).toThrow(message);
  });
});
