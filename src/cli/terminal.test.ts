import { describe, expect, test } from "bun:test";
import { outputWriter, sanitizeForTerminal } from "./terminal";

const KEPT = new Set(["\n", "\r", "\t", "\b"]);

describe("sanitizeForTerminal", () => {
  test("plain text, unicode, newline and tab are kept", () => {
    const text = "hello\tworld\nline 2\r\nélan 🙂 日本\n";
    expect(sanitizeForTerminal(text)).toBe(text);
  });

  test("ESC is made visible, so colour and cursor sequences are inert", () => {
    expect(sanitizeForTerminal("\x1b[31mred\x1b[0m")).toBe("\\x1b[31mred\\x1b[0m");
    expect(sanitizeForTerminal("\x1b[2J\x1b[H")).toBe("\\x1b[2J\\x1b[H");
  });

  test("OSC 52 (clipboard write) is made visible, BEL or ST terminated", () => {
    expect(sanitizeForTerminal("\x1b]52;c;cm0gLXJmIH4=\x07")).toBe("\\x1b]52;c;cm0gLXJmIH4=\\x07");
    expect(sanitizeForTerminal("\x1b]52;c;cm0gLXJmIH4=\x1b\\")).toBe("\\x1b]52;c;cm0gLXJmIH4=\\x1b\\");
  });

  test("window title (OSC 0) and hyperlinks (OSC 8) are made visible", () => {
    expect(sanitizeForTerminal("\x1b]0;pwned\x07")).toBe("\\x1b]0;pwned\\x07");
    expect(sanitizeForTerminal("\x1b]8;;http://example.test\x1b\\x\x1b]8;;\x1b\\")).not.toContain("\x1b");
  });

  test("NUL, BEL, DEL and the 8-bit CSI are made visible", () => {
    expect(sanitizeForTerminal("a\x00b\x07c\x7fd\x9b2J")).toBe("a\\x00b\\x07c\\x7fd\\x9b2J");
  });

  test("OSC 52 through the 8-bit C1 introducer (U+009D) is made visible", () => {
    const out = sanitizeForTerminal("\x9d52;c;cm0gLXJmIH4=\x9c");
    expect(out).not.toContain("\x9d");
    expect(out).not.toContain("\x9c");
  });

  test("every C0 and C1 control other than newline, carriage return, tab and backspace is made visible", () => {
    for (let code = 0; code <= 0x9f; code++) {
      if (code >= 0x20 && code < 0x7f) continue;
      const char = String.fromCharCode(code);
      const out = sanitizeForTerminal(`a${char}b`);
      if (KEPT.has(char)) expect(out).toBe(`a${char}b`);
      else expect({ code, out }).toEqual({ code, out: `a\\x${code.toString(16).padStart(2, "0")}b` });
    }
  });
});

describe("outputWriter", () => {
  function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: (string | Uint8Array)[] } {
    const written: (string | Uint8Array)[] = [];
    const stream = { isTTY, write: (text: string | Uint8Array) => written.push(text) > 0 } as unknown as NodeJS.WriteStream;
    return { stream, written };
  }

  test("sanitizes for a terminal", () => {
    const { stream, written } = fakeStream(true);
    outputWriter(stream)("\x1b]52;c;eA==\x07ok\n");
    expect(written).toEqual(["\\x1b]52;c;eA==\\x07ok\n"]);
  });

  test("passes bytes through unchanged to a pipe or file", () => {
    const { stream, written } = fakeStream(false);
    outputWriter(stream)("\x1b[31mred\x1b[0m\n");
    expect(written).toEqual(["\x1b[31mred\x1b[0m\n"]);
  });

  test("a pipe gets the exact bytes of output that is not valid UTF-8", () => {
    const { stream, written } = fakeStream(false);
    outputWriter(stream)("\uFFFD\uFFFDA", Buffer.from([0xff, 0xfe, 0x41]));
    expect(written).toEqual([Buffer.from([0xff, 0xfe, 0x41])]);
  });

  test("a terminal gets the text, escaped, whatever the bytes", () => {
    const { stream, written } = fakeStream(true);
    outputWriter(stream)("\x1b[1m\uFFFD", Buffer.from([0x1b, 0x5b, 0x31, 0x6d, 0xff]));
    expect(written).toEqual(["\\x1b[1m\uFFFD"]);
  });

  test("--raw: a terminal gets the program's own control characters and bytes", () => {
    const { stream, written } = fakeStream(true);
    const write = outputWriter(stream, { raw: true });
    write("\x1b[31mred\x1b[0m\n");
    write("\uFFFD", Buffer.from([0xff]));
    expect(written).toEqual(["\x1b[31mred\x1b[0m\n", Buffer.from([0xff])]);
  });
});
