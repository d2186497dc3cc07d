import { describe, expect, test } from "bun:test";
import { base64DecodedLength, isBase64 } from "./base64";

describe("isBase64", () => {
  test.each<[string, boolean]>([
    ["", true],
    ["QQ==", true],
    ["QUI=", true],
    ["QUJD", true],
    ["ab+/AB09", true],
    ["QQ=", false],
    ["Q===", false],
    ["====", false],
    ["QQ==QUJD", false],
    ["QU JD", false],
    ["QUJD\n", false],
    ["ab-_", false],
    ["QUJ€", false],
  ])("%p → %p", (value, valid) => {
    expect(isBase64(value)).toBe(valid);
  });

  test.each([0, 1, 2, 3, 4, 5, 6, 1000, 6_000_000])("%d bytes: valid and its decoded length is known without decoding", (size) => {
    const encoded = Buffer.alloc(size, 0xff).toString("base64");
    expect(isBase64(encoded)).toBe(true);
    expect(base64DecodedLength(encoded)).toBe(size);
  });
});
