import { describe, expect, test } from "bun:test";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testSigningKey } from "../../test/fake-release";
import { ReleaseError } from "./errors";
import repositoryKeys from "./release-keys.json" with { type: "json" };
import { parseReleaseKeys } from "./release-keys";
import { createSigningKey } from "./signing-key";
import { trustedKeys } from "./trusted-keys";

const ROOT = join(import.meta.dir, "..", "..");
const key = testSigningKey().publicKey;

describe("the repository's release keys", () => {
  test("release-keys.json is a valid key list, and what the sources trust", () => {
    const keys = parseReleaseKeys(repositoryKeys, "release-keys.json");
    expect([...trustedKeys()]).toEqual(keys.map((entry) => entry.publicKey));
  });

  test("a valid entry is accepted", () => {
    expect(parseReleaseKeys([{ publicKey: key, note: "release key, 2025" }], "k")).toEqual([{ publicKey: key, note: "release key, 2025" }]);
  });

  test.each([
    ["a private key", [{ publicKey: generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }), note: "x" }], "0.publicKey: must be the base64"],
    ["a short key", [{ publicKey: key.slice(4), note: "x" }], "0.publicKey: must be the base64"],
    ["no note", [{ publicKey: key, note: "" }], "0.note: must say whose key it is"],
    ["an unknown field", [{ publicKey: key, note: "x", expires: "2030" }], "0.expires: unknown key"],
    ["not a list", { keys: [] }, "(root):"],
  ])("refused: %s", (_, json, message) => {
    expect(() => parseReleaseKeys(json, "src/update/release-keys.json")).toThrow(ReleaseError);
    expect(() => parseReleaseKeys(json, "src/update/release-keys.json")).toThrow(message);
  });
});

/** Whether `text` holds a PEM private key that parses (an encrypted one counts too). */
function holdsPrivateKey(text: string): boolean {
  const blocks = text.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g) ?? [];
  return blocks.some((block) => {
    try {
      createPrivateKey(block);
      return true;
    } catch (error) {
      return (error as { code?: string }).code === "ERR_MISSING_PASSPHRASE";
    }
  });
}

/** Files under `dir` (no node_modules, dist or .git) that hold a private key. */
function filesWithPrivateKeys(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (["node_modules", "dist", ".git"].includes(name)) return [];
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) return filesWithPrivateKeys(path);
    return stat.isFile() && stat.size < 5_000_000 && holdsPrivateKey(readFileSync(path, "latin1")) ? [path] : [];
  });
}

describe("no private key lies in the repository (release keys are kept outside it)", () => {
  test("the scan finds a key file, and a fake PEM block is not one", () => {
    const dir = mkdtempSync(join(tmpdir(), "isol8-key-scan-"));
    try {
      writeFileSync(join(dir, "fake.ts"), ["-----BEGIN", "PRIVATE KEY-----\nAAAA\n-----END", "PRIVATE KEY-----"].join(" "));
      expect(filesWithPrivateKeys(dir)).toEqual([]);
      createSigningKey(join(dir, "release.pem"));
      expect(filesWithPrivateKeys(dir)).toEqual([join(dir, "release.pem")]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the repository holds none", () => {
    expect(filesWithPrivateKeys(ROOT)).toEqual([]);
  });
});
