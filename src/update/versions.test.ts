import { describe, expect, test } from "bun:test";
import { compareVersions, isVersion } from "./versions";

describe("isVersion", () => {
  test.each([
    ["1.2.3", true],
    ["0.1.0-beta.1", true],
    ["1.0.0+build.7", true],
    ["v1.2.3", false],
    ["1.2", false],
    ["1.2.3/../x", false],
    ["", false],
  ])("%p → %p", (text, expected) => expect(isVersion(text)).toBe(expected));
});

describe("compareVersions (semver precedence)", () => {
  // Each row is in ascending order.
  const ascending = ["0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "9.9.9"];
  test("orders a semver sequence", () => {
    for (let i = 0; i < ascending.length - 1; i++) {
      expect([ascending[i], compareVersions(ascending[i]!, ascending[i + 1]!)]).toEqual([ascending[i], -1]);
      expect(compareVersions(ascending[i + 1]!, ascending[i]!)).toBe(1);
    }
  });

  test("equal versions, build metadata ignored", () => {
    expect(compareVersions("1.2.3", "1.2.3")).toBe(0);
    expect(compareVersions("1.2.3+a", "1.2.3+b")).toBe(0);
  });
});
