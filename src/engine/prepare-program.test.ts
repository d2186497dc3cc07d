import { describe, expect, test } from "bun:test";
import { RequestError } from "../errors";
import { node } from "../runtimes/node";
import { python } from "../runtimes/python";
import { thrown } from "../../test/thrown";
import { programFileOf } from "./prepare";

describe("programFileOf: the program file's stable name in /sandbox", () => {
  test.each<[string, Parameters<typeof programFileOf>[0], Parameters<typeof programFileOf>[1], { name: string; extension: string }]>([
    ["inline python", {}, python, { name: "main.py", extension: ".py" }],
    ["inline node (ES module by default)", {}, node, { name: "main.mjs", extension: ".mjs" }],
    ["fileExtension chooses CommonJS", { fileExtension: ".cjs" }, node, { name: "main.cjs", extension: ".cjs" }],
    ["a named file sets the extension", { programFile: "solve.js" }, node, { name: "solve.js", extension: ".js" }],
    ["a name with a matching fileExtension", { programFile: "solve.py", fileExtension: ".py" }, python, { name: "solve.py", extension: ".py" }],
    ["a name with a capital", { programFile: "Solve.py" }, python, { name: "Solve.py", extension: ".py" }],
  ])("%s", (_, request, runtime, expected) => {
    expect(programFileOf(request, runtime)).toEqual(expected);
  });

  test.each(["solution", "data.txt", "x.ts", "X.PY"])("%p: a name without one of the runtime's extensions is refused", (programFile) => {
    const error = thrown(() => programFileOf({ programFile }, python), RequestError);
    expect(error.field).toBe("programFile");
    expect(error.message).toBe(`Cannot run "${programFile}" with runtime "python": its name must end in .py`);
  });

  test("a name whose extension contradicts fileExtension is refused, naming programFile", () => {
    const error = thrown(() => programFileOf({ programFile: "solve.cjs", fileExtension: ".mjs" }, node), RequestError);
    expect(error.field).toBe("programFile");
    expect(error.message).toBe('Cannot run "solve.cjs" as a ".mjs" file: its name says ".cjs"');
  });
});
