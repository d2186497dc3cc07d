import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReleaseError } from "./errors";
import { verifyChecksums } from "./signature";
import { createSigningKey, readSigningKey, signChecksums } from "./signing-key";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "isol8-signing-key-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const SUMS = `${"a".repeat(64)}  isol8-linux-x64\n`;

describe("signing keys", () => {
  test("a new key is a 0600 PEM file whose public half is returned; it signs what clients verify", () => {
    const path = join(dir, "key.pem");
    const publicKey = createSigningKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const key = readSigningKey(path);
    expect(key.publicKey).toBe(publicKey);
    const signatures = signChecksums("1.0.0", SUMS, [key]);
    expect(() => verifyChecksums({ version: "1.0.0", sums: SUMS, signatures, trustedKeys: [publicKey], sumsSource: "s", signatureSource: "g" })).not.toThrow();
  });

  test("an existing file is never overwritten", () => {
    const path = join(dir, "key.pem");
    createSigningKey(path);
    const before = readFileSync(path, "utf8");
    expect(() => createSigningKey(path)).toThrow(`Cannot create signing key "${path}": the file exists`);
    expect(readFileSync(path, "utf8")).toBe(before);
  });

  test("two keys sign two lines; either alone verifies", () => {
    const a = readSigningKey((createSigningKey(join(dir, "a.pem")), join(dir, "a.pem")));
    const b = readSigningKey((createSigningKey(join(dir, "b.pem")), join(dir, "b.pem")));
    const signatures = signChecksums("1.0.0", SUMS, [a, b]);
    expect(signatures.split("\n").filter(Boolean)).toHaveLength(2);
    for (const key of [a, b]) {
      expect(() => verifyChecksums({ version: "1.0.0", sums: SUMS, signatures, trustedKeys: [key.publicKey], sumsSource: "s", signatureSource: "g" })).not.toThrow();
    }
  });

  test.each([0o640, 0o604, 0o644])("a key file other users may read (mode %o) is refused", (mode) => {
    const path = join(dir, "key.pem");
    createSigningKey(path);
    chmodSync(path, mode);
    expect(() => readSigningKey(path)).toThrow(`Cannot use signing key "${path}": other users may read it (mode 0${mode.toString(8)})`);
  });

  test("what is not an ed25519 private key is refused", () => {
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text, { mode: 0o600 });
      return join(dir, name);
    };
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }) as string;
    const publicOnly = generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" }) as string;
    expect(() => readSigningKey(write("ec.pem", ec))).toThrow("it is an ec key, not ed25519");
    expect(() => readSigningKey(write("pub.pem", publicOnly))).toThrow("it is not an unencrypted PEM private key");
    expect(() => readSigningKey(write("junk.pem", "hello"))).toThrow(ReleaseError);
    expect(() => readSigningKey(join(dir, "missing.pem"))).toThrow(`Cannot use signing key "${join(dir, "missing.pem")}": ENOENT`);
  });
});
