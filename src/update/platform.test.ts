import { describe, expect, test } from "bun:test";
import { binaryFileName, isReleaseTarget, platformName } from "./platform";

describe("platform mapping", () => {
  test.each([
    ["linux", "x64", true, "linux-x64", true],
    ["linux", "arm64", true, "linux-arm64", true],
    ["darwin", "x64", true, "darwin-x64", true],
    ["darwin", "arm64", true, "darwin-arm64", true],
    ["linux", "x64", false, "linux-x64-musl", false],
    ["darwin", "arm64", false, "darwin-arm64", true],
    ["win32", "x64", true, "win32-x64", false],
    ["linux", "ia32", true, "linux-ia32", false],
    ["freebsd", "x64", true, "freebsd-x64", false],
    ["plan9", "mips", true, "plan9-mips", false],
  ])("%s %s glibc=%p → %s (supported: %p)", (platform, arch, glibc, name, supported) => {
    expect(platformName(platform, arch, glibc)).toBe(name);
    expect(isReleaseTarget(name)).toBe(supported);
  });

  test("binary file names", () => {
    expect(binaryFileName("linux-x64")).toBe("isol8-linux-x64");
    expect(binaryFileName("darwin-arm64")).toBe("isol8-darwin-arm64");
  });
});
