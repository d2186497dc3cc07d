import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../errors";
import { thrown } from "../../../test/thrown";
import type { InputSource } from "../std-streams";
import { programArgs, programStdin } from "./program-input";

/** isol8's stdin as a pipe carrying `bytes` (or a terminal: `hasData` false). */
const piped = (bytes: number[], hasData = true): InputSource => ({ isTTY: !hasData, hasData, readAll: () => Buffer.from(bytes) });

describe("programStdin", () => {
  test("piped bytes reach the program exactly when the code came from a file or -e", () => {
    const data = programStdin({ codeFromStdin: false, stdin: piped([0x33, 0x20, 0x34, 0x0a, 0xff]) });
    expect([...(data as Uint8Array)]).toEqual([0x33, 0x20, 0x34, 0x0a, 0xff]);
  });

  test("stdin that carried the code is not the program's too", () => {
    expect(programStdin({ codeFromStdin: true, stdin: piped([0x31]) })).toBeUndefined();
  });

  test("a terminal (not piped) is never read", () => {
    expect(programStdin({ codeFromStdin: false, stdin: piped([0x31], false) })).toBeUndefined();
  });

  test("an empty pipe gives no stdin", () => {
    expect(programStdin({ codeFromStdin: false, stdin: piped([]) })).toBeUndefined();
  });

  test("--stdin wins over a pipe", () => {
    expect(programStdin({ text: "1 2\n", codeFromStdin: false, stdin: piped([0x39]) })).toBe("1 2\n");
  });

  test("--stdin-file gives the file's bytes", () => {
    const file = join(mkdtempSync(join(tmpdir(), "isol8-stdin-")), "in.bin");
    writeFileSync(file, Buffer.from([0, 1, 0xfe]));
    const data = programStdin({ file, codeFromStdin: false, stdin: piped([]) });
    expect([...(data as Uint8Array)]).toEqual([0, 1, 0xfe]);
  });

  test("--stdin-file of a missing file and --stdin with --stdin-file are usage errors", () => {
    const missing = thrown(() => programStdin({ file: "/nonexistent/in", codeFromStdin: false, stdin: piped([]) }), UsageError);
    expect(missing.message).toBe('Cannot use --stdin-file "/nonexistent/in": file not found');
    const both = thrown(() => programStdin({ text: "x", file: "/etc/hostname", codeFromStdin: false, stdin: piped([]) }), UsageError);
    expect(both.message).toBe("Cannot use --stdin and --stdin-file together");
  });
});

describe("programArgs", () => {
  test.each<[string[], string[], string[] | undefined]>([
    [["argv.py"], [], undefined],
    [["argv.py"], ["a", "b"], ["a", "b"]],
    [[], ["--flag", "-x", ""], ["--flag", "-x", ""]],
  ])("%j -- %j", (positionals, rest, expected) => {
    expect(programArgs(positionals, rest)).toEqual(expected);
  });

  test("words after the file without -- are refused with the spelling that passes them", () => {
    const error = thrown(() => programArgs(["argv.py", "foo", "bar"], []), UsageError);
    expect(error.message).toBe('Cannot run "argv.py" with "foo bar": program arguments go after --');
    expect(error.hint).toBe("isol8 run argv.py -- foo bar");
  });
});
