import { describe, expect, test } from "bun:test";
import { formatChecksums, parseChecksums } from "./checksums";
import { ReleaseError } from "./errors";

const A = "a".repeat(64);
const B = "0123456789abcdef".repeat(4);

describe("SHA256SUMS", () => {
  test("format and parse round trip (sha256sum's format)", () => {
    const text = formatChecksums([
      { file: "isol8-linux-x64", sha256: A },
      { file: "launcher.cjs", sha256: B },
    ]);
    expect(text).toBe(`${A}  isol8-linux-x64\n${B}  launcher.cjs\n`);
    expect([...parseChecksums(text, "x")]).toEqual([
      ["isol8-linux-x64", A],
      ["launcher.cjs", B],
    ]);
  });

  test("binary markers, CRLF, blank lines and upper-case hex are read", () => {
    const sums = parseChecksums(`\r\n${B.toUpperCase()} *isol8-darwin-arm64\r\n\n`, "x");
    expect(sums.get("isol8-darwin-arm64")).toBe(B);
  });

  test.each([`${A} isol8-linux-x64`, `${A.slice(1)}  isol8-linux-x64`, "<html>not found</html>"])("a damaged file is refused whole: %p", (line) => {
    expect(() => parseChecksums(`${B}  ok\n${line}\n`, "http://r/v1/SHA256SUMS")).toThrow(ReleaseError);
    expect(() => parseChecksums(`${B}  ok\n${line}\n`, "http://r/v1/SHA256SUMS")).toThrow('Cannot read "http://r/v1/SHA256SUMS": line 2');
  });
});
