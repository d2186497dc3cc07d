import { describe, expect, test } from "bun:test";
import { keyHash, keyIdOf, keyMatches, newKey, newKeyId, principalOfKeyId } from "./key-material";

describe("key material", () => {
  test("a new key carries its public id and 32 random bytes; two keys differ", () => {
    const id = newKeyId();
    expect(id).toMatch(/^[a-km-z2-9]{10}$/);
    const key = newKey(id);
    expect(key).toMatch(/^isol8_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    expect(keyIdOf(key)).toBe(id);
    expect(newKey(id)).not.toBe(key);
    expect(new Set(Array.from({ length: 200 }, () => newKeyId())).size).toBe(200);
  });

  test("ids skip bytes above the last whole multiple of the alphabet (no modulo bias)", () => {
    // 231 = 7 × 33: bytes 231-255 would favour the first 25 letters, so they are skipped.
    const bytes = [255, 231, 0, 32, 33, 230, 1, 65, 66, 98, 99, 100, 240, 2, 3, 4];
    expect(newKeyId(() => Buffer.from(bytes))).toBe("a9a9b9a9ab"); // 0, 32, 33, 230, 1, 65, 66, 98, 99, 100 mod 33
  });

  test.each([
    ["isol8_abcdefghij_" + "A".repeat(43), "abcdefghij"],
    ["isol8_abcdefghij_" + "A".repeat(42), null],
    ["isol8_ABCDEFGHIJ_" + "A".repeat(43), null],
    ["a-bootstrap-key", null],
    ["", null],
    ["isol8_abcdefghij_" + "A".repeat(43) + "\n", null],
  ])("keyIdOf(%j) → %p", (key, id) => {
    expect(keyIdOf(key)).toBe(id);
  });

  test("the stored form is the SHA-256 of the key, hex; only the same key matches it", () => {
    const key = newKey("abcdefghij");
    expect(keyHash(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyHash(key)).not.toContain(key.slice(17));
    expect(keyMatches(key, keyHash(key))).toBe(true);
    expect(keyMatches(`${key}x`, keyHash(key))).toBe(false);
    expect(keyMatches(key, "not-a-hash")).toBe(false);
    expect(principalOfKeyId("abcdefghij")).toBe("key:abcdefghij");
  });
});
