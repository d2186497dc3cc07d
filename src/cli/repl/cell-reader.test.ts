import { describe, expect, test } from "bun:test";
import { CellReader, cellSyntax, openBrackets } from "./cell-reader";

const cells = (runtime: string, input: string) => {
  const reader = new CellReader(cellSyntax(runtime));
  const out: string[] = [];
  for (const line of input.split("\n")) out.push(...reader.push(line));
  return [...out, ...reader.end()];
};

describe("CellReader", () => {
  test.each([
    ["python", "x = 41\nx + 1", ["x = 41", "x + 1"]],
    ["python", "def f():\n    return 1\n\nf()", ["def f():\n    return 1", "f()"]],
    ["python", "def f():\n    return 1\nf()", ["def f():\n    return 1", "f()"]],
    ["python", "if x:\n    a()\nelse:\n    b()\n", ["if x:\n    a()\nelse:\n    b()"]],
    ["python", "d = {\n  'a': 1,\n}\nd", ["d = {\n  'a': 1,\n}", "d"]],
    ["python", "s = '(' \ns", ["s = '(' ", "s"]],
    ["python", "\n\nx\n\n", ["x"]],
    ["node", "const o = {\n a: 1\n}\no.a", ["const o = {\n a: 1\n}", "o.a"]],
    ["node", "function f() {\n  return 2\n}\nf()", ["function f() {\n  return 2\n}", "f()"]],
    ["bash", "for i in 1 2; do\n  echo $i\ndone\necho x", ["for i in 1 2; do\n  echo $i\ndone", "echo x"]],
    ["bash", "cd /tmp\npwd", ["cd /tmp", "pwd"]],
  ])("%s %p", (runtime, input, expected) => {
    expect(cells(runtime, input)).toEqual(expected);
  });

  test("openBrackets ignores quoted and commented brackets", () => {
    expect(openBrackets("f('(', \"[\")")).toBe(0);
    expect(openBrackets("f(  # )\n")).toBe(1);
    expect(openBrackets("[1, (2")).toBe(2);
  });
});
