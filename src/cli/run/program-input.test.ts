import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { UsageError } from "../../errors";
import { thrown } from "../../../test/thrown";
import { programArgs, programStdin } from "./program-input";

const piped = (bytes: number[]) => Readable.from([Buffer.from(bytes)]);

describe("programStdin", () => {
  test("piped bytes reach the program exactly when the code came from a file or -e", async () => {
    const data = await programStdin({ codeFromStdin: false, stdin: piped([0x33, 0x20, 0x34, 0x0a, 0xff]), piped: true });
    expect([...(data as Uint8Array)]).toEqual([0x33, 0x20, 0x34, 0x0a, 0xff]);
  });

  test("stdin that carried the code is not the program's too", async () => {
    expect(await programStdin({ codeFromStdin: true, stdin: piped([0x31]), piped: true })).toBeUndefined();
  });

  test("a terminal (not piped) is never read", async () => {
    expect(await programStdin({ codeFromStdin: false, stdin: piped([0x31]), piped: false })).toBeUndefined();
  });

  test("an empty pipe gives no stdin", async () => {
    expect(await programStdin({ codeFromStdin: false, stdin: Readable.from([]), piped: true })).toBeUndefined();
  });

  test("--stdin wins over a pipe", async () => {
    expect(await programStdin({ text: "1 2\n", codeFromStdin: false, stdin: piped([0x39]), piped: true })).toBe("1 2\n");
  });

  test("--stdin-file gives the file's bytes", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "isol8-stdin-")), "in.bin");
    writeFileSync(file, Buffer.from([0, 1, 0xfe]));
    const data = await programStdin({ file, codeFromStdin: false, stdin: piped([]), piped: true });
    expect([...(data as Uint8Array)]).toEqual([0, 1, 0xfe]);
  });

  test("--stdin-file of a missing file and --stdin with --stdin-file are usage errors", async () => {
    const missing = await programStdin({ file: "/nonexistent/in", codeFromStdin: false, stdin: piped([]) }).catch((e) => e);
    expect(missing).toBeInstanceOf(UsageError);
    expect(missing.message).toBe('Cannot use --stdin-file "/nonexistent/in": file not found');
    const both = await programStdin({ text: "x", file: "/etc/hostname", codeFromStdin: false, stdin: piped([]) }).catch((e) => e);
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
