import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { UsageError } from "../errors";
import { keyValues, listOf, numberFlag, rejectUnknownFlags, repeatedFlag } from "./args";

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error("expected a UsageError, nothing was thrown");
}

describe("listOf", () => {
  const cases: [unknown, string[]][] = [
    [undefined, []],
    [null, []],
    [false, []],
    ["a", ["a"]],
    ["", [""]],
    [["a", "b"], ["a", "b"]],
    [[1, "x"], ["1", "x"]],
    [3, ["3"]],
  ];
  test.each(cases)("%p → %p", (value, list) => {
    expect(listOf(value)).toEqual(list);
  });
});

describe("keyValues", () => {
  test("no values gives undefined", () => {
    expect(keyValues("env", undefined)).toBeUndefined();
    expect(keyValues("env", [])).toBeUndefined();
  });

  test("parses one or repeated KEY=VALUE flags", () => {
    expect(keyValues("env", "A=1")).toEqual({ A: "1" });
    expect(keyValues("env", ["A=1", "_B2=two words", "C="])).toEqual({ A: "1", _B2: "two words", C: "" });
  });

  test("the value may contain '='", () => {
    expect(keyValues("secret", "TOKEN=a=b==")).toEqual({ TOKEN: "a=b==" });
  });

  test("a repeated key keeps the last value", () => {
    expect(keyValues("env", ["A=1", "A=2"])).toEqual({ A: "2" });
  });

  const malformed = ["NOEQUALS", "=value", "1A=x", "A-B=x", "A B=x", "", "é=x"];
  test.each(malformed)("%p is a usage error naming the flag", (item) => {
    const error = usageError(() => keyValues("secret", ["OK=1", item]));
    expect(error.message).toBe(`Cannot use --secret "${item}": expected KEY=VALUE`);
    expect(error.hint).toBe("e.g. --secret TOKEN=abc");
    expect(error.exitCode).toBe(2);
  });
});

describe("numberFlag", () => {
  const valid: [unknown, number][] = [
    ["5", 5],
    ["0.5", 0.5],
    ["0", 0],
    [" 42 ", 42],
    ["-3", -3],
    ["1e3", 1000],
    [7, 7],
  ];
  test.each(valid)("%p → %p", (value, n) => {
    expect(numberFlag("cpu", value)).toBe(n);
  });

  test("absent gives undefined", () => {
    expect(numberFlag("cpu", undefined)).toBeUndefined();
  });

  const invalid: unknown[] = ["abc", "", "  ", "5s", "Infinity", "-Infinity", "NaN", true, false];
  test.each(invalid)("%p is a usage error", (value) => {
    const error = usageError(() => numberFlag("timeout", value));
    expect(error.message).toBe(`Cannot use --timeout "${String(value)}": expected a number`);
  });
});

describe("rejectUnknownFlags", () => {
  const args = {
    file: { type: "positional", required: false },
    eval: { type: "string", alias: "e" },
    runtime: { type: "string", alias: ["r", "R"] },
    "pids-limit": { type: "string" },
    maxOutput: { type: "string" },
    stream: { type: "boolean", default: true },
    json: { type: "boolean" },
    dryRun: { type: "boolean" },
    verbose: { type: "boolean", alias: "v" },
  } as const satisfies ArgsDef;

  const accepted: string[][] = [
    [],
    ["main.py"],
    ["--eval", "print(1)"],
    ["--eval=print(1)"],
    ["-e", "print(1)"],
    ["-r", "node", "-R", "bun"],
    ["--pids-limit", "5"],
    ["--max-output", "10"],
    ["--maxOutput", "10"],
    ["--json"],
    ["--no-stream"],
    ["--no-json"],
    ["--dry-run"],
    ["--dryRun"],
    ["--no-dry-run"],
    ["-v"],
    ["-ve", "x"], // grouped short flags
    ["-"], // stdin placeholder
    ["--", "--not-a-flag", "-z"], // after --, everything is positional
    ["-e", "x", "file.py", "--json"],
    ["--file", "x.py"], // positionals may also be given by name
  ];
  test.each(accepted)("accepts %p", (...raw) => {
    expect(() => rejectUnknownFlags(raw, args, "run")).not.toThrow();
  });

  const refused: [string[], string][] = [
    [["--bogus"], "--bogus"],
    [["--bogus=1"], "--bogus=1"],
    [["-x"], "-x"],
    [["-vx"], "-vx"],
    [["--no-eval"], "--no-eval"], // --no- only for booleans
    [["--no-pids-limit"], "--no-pids-limit"],
    [["--no-bogus"], "--no-bogus"],
    [["main.py", "--jsonn"], "--jsonn"],
  ];
  test.each(refused)("refuses %p", (raw, flag) => {
    const error = usageError(() => rejectUnknownFlags(raw, args, "run"));
    expect(error.message).toBe(`Cannot run "isol8 run": unknown flag "${flag}"`);
    expect(error.hint).toBe("see isol8 run --help");
  });
});

describe("repeatedFlag", () => {
  test("collects every value in order, in both spellings and by alias", () => {
    const raw = ["--env", "A=1", "-e", "code", "--env=B=2", "--other", "x", "--env", "C=3"];
    expect(repeatedFlag(raw, "env")).toEqual(["A=1", "B=2", "C=3"]);
    expect(repeatedFlag(raw, "eval", "e")).toEqual(["code"]);
  });

  test("a value that starts with a dash is a value; nothing after -- counts", () => {
    expect(repeatedFlag(["--install", "--index-url=x", "--", "--install", "y"], "install")).toEqual(["--index-url=x"]);
  });

  test("rejectUnknownFlags does not read a string flag's value as a flag", () => {
    expect(() => rejectUnknownFlags(["--install", "--index-url=x"], { install: { type: "string" } }, "run")).not.toThrow();
  });
});
