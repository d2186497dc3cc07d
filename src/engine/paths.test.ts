import { describe, expect, test } from "bun:test";
import { RequestError } from "../errors";
import { toSandboxPath } from "./paths";

describe("toSandboxPath accepts paths inside /sandbox", () => {
  const accepted: [string, string][] = [
    ["/sandbox/a/b", "a/b"],
    ["a/b", "a/b"],
    ["./a", "a"],
    ["a", "a"],
    ["/sandbox/a", "a"],
    ["a/./b", "a/b"],
    ["a//b", "a/b"],
    ["a/b/", "a/b"],
    ["/sandbox/out.txt", "out.txt"],
    ["dir with space/é.txt", "dir with space/é.txt"],
    ["..hidden", "..hidden"],
    ["a/..b", "a/..b"],
  ];
  test.each(accepted)("%p → %p", (input, relative) => {
    expect(toSandboxPath(input)).toBe(relative);
  });
});

describe("toSandboxPath refuses paths that leave /sandbox", () => {
  const refused: string[] = [
    "..",
    "../x",
    "/sandbox/../etc/passwd",
    "/sandbox/a/../../etc/passwd",
    "/sandbox/a/..",
    "/etc/passwd",
    "/",
    "/sandbox",
    "/sandbox/",
    "/sandbox/.",
    "/sandboxed/a",
    "/sandbox2",
    ".",
    "./",
    "",
    "a\0b",
    "\0",
    "a/../../x",
    "a/../b",
    "/tmp/x",
    "//sandbox/../etc",
  ];
  test.each(refused)("%p", (input) => {
    expect(() => toSandboxPath(input)).toThrow(RequestError);
  });

  test("the error names the field and carries a hint", () => {
    let caught: unknown;
    try {
      toSandboxPath("/etc/passwd", "outputPaths.0");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RequestError);
    const error = caught as RequestError;
    expect(error.field).toBe("outputPaths.0");
    expect(error.message).toBe('Cannot use outputPaths.0 "/etc/passwd": outside /sandbox');
    expect(error.hint).toBe("paths must stay inside /sandbox");
    expect(error.exitCode).toBe(2);
  });

  test("a NUL byte is shown escaped in the message", () => {
    expect(() => toSandboxPath("a\0b")).toThrow('Cannot use path "a\\u0000b": contains a NUL byte');
  });

  test("a path of 4000 bytes or more is refused", () => {
    expect(toSandboxPath("a".repeat(3999))).toHaveLength(3999);
    expect(() => toSandboxPath("a".repeat(4000))).toThrow(RequestError);
    expect(() => toSandboxPath("é".repeat(2000))).toThrow(RequestError);
  });

  test("a non-string is refused", () => {
    expect(() => toSandboxPath(undefined as unknown as string)).toThrow(RequestError);
    expect(() => toSandboxPath(42 as unknown as string)).toThrow(RequestError);
  });
});
