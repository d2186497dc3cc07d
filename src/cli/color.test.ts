import { describe, expect, test } from "bun:test";
import { forStream, stripAnsi, useColor } from "./color";

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe("useColor", () => {
  test.each<[string, { isTTY?: boolean }, Record<string, string>, boolean]>([
    ["a terminal", tty, {}, true],
    ["a pipe", pipe, {}, false],
    ["a terminal with NO_COLOR=1", tty, { NO_COLOR: "1" }, false],
    ["a terminal with NO_COLOR=true", tty, { NO_COLOR: "true" }, false],
    ["a terminal with an empty NO_COLOR", tty, { NO_COLOR: "" }, true],
    ["a dumb terminal", tty, { TERM: "dumb" }, false],
    ["a pipe with FORCE_COLOR=1", pipe, { FORCE_COLOR: "1" }, true],
    ["a pipe with an empty FORCE_COLOR", pipe, { FORCE_COLOR: "" }, true],
    ["a terminal with FORCE_COLOR=0", tty, { FORCE_COLOR: "0" }, true],
    ["a pipe with FORCE_COLOR=0", pipe, { FORCE_COLOR: "0" }, false],
    ["FORCE_COLOR wins over NO_COLOR", pipe, { FORCE_COLOR: "1", NO_COLOR: "1" }, true],
  ])("%s", (_, stream, env, expected) => {
    expect(useColor(stream, env)).toBe(expected);
  });
});

describe("stripAnsi", () => {
  test("colours, cursor moves and OSC titles go; text stays", () => {
    expect(stripAnsi("\x1b[1m\x1b[36mrun\x1b[39m\x1b[22m [file]")).toBe("run [file]");
    expect(stripAnsi("a\x1b[2Kb\x1b]0;title\x07c")).toBe("abc");
  });
});

describe("forStream", () => {
  test("escapes are kept on a terminal and removed on a pipe", () => {
    expect(forStream("\x1b[1mx\x1b[22m", tty, {})).toBe("\x1b[1mx\x1b[22m");
    expect(forStream("\x1b[1mx\x1b[22m", pipe, {})).toBe("x");
  });
});
