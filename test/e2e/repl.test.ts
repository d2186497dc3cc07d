import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBinary } from "../helpers";

// `isol8 repl` of the compiled binary with piped input.
const out = mkdtempSync(join(tmpdir(), "isol8-repl-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("isol8 repl", () => {
  test("printf 'x = 41\\nx + 1\\n' | isol8 repl prints 42", () => {
    const r = runBinary(["repl"], { input: "x = 41\nx + 1\n" });
    expect(r.stdout).toBe("42\n");
    expect(r.code).toBe(0);
  });

  test("multi-line blocks, errors on stderr, rich results saved to files whose paths are printed", () => {
    const input = [
      "def double(v):",
      "    return v * 2",
      "double(21)",
      "class Pic:",
      "    def _repr_svg_(self):",
      "        return '<svg xmlns=\"http://www.w3.org/2000/svg\"/>'",
      "",
      "Pic()",
      "1/0",
      "",
    ].join("\n");
    const r = runBinary(["repl", "--output-dir", out], { input });
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("42");
    expect(lines[1]).toBe(`[image/svg+xml saved to ${join(out, "result-2.svg")}]`);
    expect(readFileSync(join(out, "result-2.svg"), "utf8")).toContain("<svg");
    expect(r.stderr).toContain("ZeroDivisionError: division by zero");
    expect(r.stderr).not.toContain("_run_cell");
  });

  test(":restart forgets the state; bash keeps its working directory", () => {
    const py = runBinary(["repl"], { input: "y = 1\n:restart\ny\n" });
    expect(py.stderr).toContain("NameError");
    const sh = runBinary(["repl", "-r", "bash"], { input: "cd /tmp\npwd\n" });
    expect(sh.stdout).toBe("/tmp\n");
  });

  test("an unknown runtime is a usage error", () => {
    const r = runBinary(["repl", "-r", "cobol"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Cannot start a repl for "cobol"');
    expect(existsSync(out)).toBe(true);
  });
});
