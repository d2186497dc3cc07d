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
    const path = (bytes: number) => `${"abc/".repeat(Math.floor(bytes / 4))}${"x".repeat(bytes % 4)}`.replace(/\/$/, "z");
    expect(toSandboxPath(path(3999))).toHaveLength(3999);
    expect(() => toSandboxPath(path(4000))).toThrow(RequestError);
    expect(() => toSandboxPath("é/".repeat(1333) + "éé")).toThrow(RequestError);
  });

  test("a name (path component) over 255 bytes is refused; 255 is accepted", () => {
    expect(toSandboxPath("a".repeat(255))).toHaveLength(255);
    expect(toSandboxPath(`d/${"a".repeat(255)}`)).toHaveLength(257);
    expect(() => toSandboxPath("a".repeat(256))).toThrow("is 256 bytes");
    expect(() => toSandboxPath(`/sandbox/${"a".repeat(256)}/f`)).toThrow(RequestError);
    // bytes, not characters: 128 two-byte characters are 256 bytes
    expect(() => toSandboxPath("é".repeat(128))).toThrow(RequestError);
    expect(toSandboxPath("é".repeat(127))).toBe("é".repeat(127));
  });

  const controls: string[] = ["a\nb", "a\rb", "tab\there", "\x1b[31mred", "bell\x07", "del\x7f", "c1\u0085", "c1\u009b[0m", "dir\n/f"];
  test.each(controls)("a control character is refused: %p", (input) => {
    expect(() => toSandboxPath(input, "files")).toThrow(RequestError);
    expect(() => toSandboxPath(input, "files")).toThrow("contains a control character");
  });

  test("text that is not valid Unicode (a lone surrogate) is refused", () => {
    expect(() => toSandboxPath("a\ud800b")).toThrow("not valid Unicode");
    expect(() => toSandboxPath("x\udfff")).toThrow(RequestError);
  });

  test("still works: printable non-ASCII names and emoji", () => {
    expect(toSandboxPath("日本語/ファイル.txt")).toBe("日本語/ファイル.txt");
    expect(toSandboxPath("🙂.txt")).toBe("🙂.txt");
    expect(toSandboxPath("a b\u00a0c")).toBe("a b\u00a0c"); // no-break space is not a control character
  });

  test("a non-string is refused", () => {
    expect(() => toSandboxPath(undefined as unknown as string)).toThrow(RequestError);
    expect(() => toSandboxPath(42 as unknown as string)).toThrow(RequestError);
  });
});
