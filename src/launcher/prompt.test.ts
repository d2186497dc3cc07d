import { describe, expect, test } from "bun:test";
import { confirm, isYes } from "./prompt";

describe("prompt", () => {
  test.each([
    ["y", true],
    ["Y", true],
    ["yes", true],
    [" YES ", true],
    ["", false],
    ["n", false],
    ["no", false],
    ["yess", false],
    [undefined, false],
  ])("%p is yes: %p", (answer, expected) => expect(isYes(answer)).toBe(expected));

  test("confirm writes the question with the default shown, and reads one line", () => {
    const written: string[] = [];
    expect(confirm("Download?", { write: (t) => void written.push(t), readLine: () => "y" })).toBe(true);
    expect(written).toEqual(["Download? [y/N] "]);
    expect(confirm("Download?", { write: () => {}, readLine: () => undefined })).toBe(false);
  });
});
