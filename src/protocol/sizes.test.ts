import { describe, expect, test } from "bun:test";
import { isSize, parseSize, sizeToBytes } from "./sizes";

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe("parseSize", () => {
  const valid: [string | number, number][] = [
    ["512m", 512 * MiB],
    ["1g", GiB],
    ["256k", 256 * KiB],
    ["1048576", 1_048_576],
    ["1.5g", 1.5 * GiB],
    ["512M", 512 * MiB],
    ["1G", GiB],
    ["256K", 256 * KiB],
    ["512mb", 512 * MiB],
    ["512MB", 512 * MiB],
    [" 64m ", 64 * MiB],
    ["1", 1],
    [1, 1],
    [1_048_576, 1_048_576],
  ];
  test.each(valid)("%p is %p bytes", (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  const invalid: (string | number)[] = [
    "12x",
    "",
    "   ",
    "-1",
    "0",
    "0m",
    "0.0001k", // rounds down to zero bytes
    "m",
    "1t",
    "1.5.0g",
    "1e3",
    "0x10",
    "5 megabytes",
    0,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    "99999999999999999999g",
  ];
  test.each(invalid)("%p is not a size", (input) => {
    expect(parseSize(input)).toBeUndefined();
    expect(isSize(input)).toBe(false);
  });
});

describe("isSize", () => {
  test("accepts only strings and numbers that parse", () => {
    expect(isSize("512m")).toBe(true);
    expect(isSize(4096)).toBe(true);
    expect(isSize(null)).toBe(false);
    expect(isSize(undefined)).toBe(false);
    expect(isSize(true)).toBe(false);
    expect(isSize({})).toBe(false);
    expect(isSize(["1m"])).toBe(false);
  });
});

describe("sizeToBytes", () => {
  test("returns the bytes of a valid size", () => {
    expect(sizeToBytes("2m")).toBe(2 * MiB);
    expect(sizeToBytes(10)).toBe(10);
  });

  test("throws on an invalid size, quoting it", () => {
    expect(() => sizeToBytes("12x")).toThrow('Invalid size "12x"');
  });
});
