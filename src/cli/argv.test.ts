import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { UsageError } from "../errors";
import { parseArgv } from "./argv";
import { thrown } from "../../test/thrown";

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
  env: { type: "string" },
  install: { type: "string" },
} as const satisfies ArgsDef;
const REPEATABLE = ["env", "install"];

const parse = (raw: string[]) => parseArgv(raw, args, "run", REPEATABLE);

const usageError = (fn: () => unknown) => thrown(fn, UsageError);

describe("parseArgv", () => {
  test.each<[string[], Record<string, unknown>, string[], string[]]>([
    [[], {}, [], []],
    [["main.py"], {}, ["main.py"], []],
    [["--eval", "print(1)"], { eval: "print(1)" }, [], []],
    [["--eval=print(1)"], { eval: "print(1)" }, [], []],
    [["-e", "print(1)"], { eval: "print(1)" }, [], []],
    [["-e=x"], { eval: "x" }, [], []],
    [["-r", "node", "-R", "bun"], { runtime: "bun" }, [], []],
    [["--pids-limit", "5"], { "pids-limit": "5" }, [], []],
    [["--pidsLimit", "5"], { "pids-limit": "5" }, [], []],
    [["--max-output", "1k"], { maxOutput: "1k" }, [], []],
    [["--maxOutput", "10"], { maxOutput: "10" }, [], []],
    [["--json"], { json: true }, [], []],
    [["--json=false"], { json: false }, [], []],
    [["--no-stream"], { stream: false }, [], []],
    [["--no-dry-run"], { dryRun: false }, [], []],
    [["--dry-run"], { dryRun: true }, [], []],
    [["-v"], { verbose: true }, [], []],
    [["-ve", "x"], { verbose: true, eval: "x" }, [], []],
    [["-"], {}, ["-"], []],
    [["--", "--not-a-flag", "-z"], {}, [], ["--not-a-flag", "-z"]],
    [["prog.py", "--", "a", "b"], {}, ["prog.py"], ["a", "b"]],
    [["-e", "x", "file.py", "--json"], { eval: "x", json: true }, ["file.py"], []],
    [["--file", "x.py"], { file: "x.py" }, [], []],
    [["--eval", "-1"], { eval: "-1" }, [], []],
    [["--install", "--index-url=x"], { install: ["--index-url=x"] }, [], []],
    [["--env", "A=1", "--env=B=2", "--env", "C=3"], { env: ["A=1", "B=2", "C=3"] }, [], []],
  ])("%p", (raw, flags, positionals, rest) => {
    expect(parse(raw)).toEqual({ flags: flags as Record<string, string>, positionals, rest });
  });

  test.each<[string[], string]>([
    [["--bogus"], "--bogus"],
    [["--bogus=1"], "--bogus=1"],
    [["-x"], "-x"],
    [["-vx"], "-vx"],
    [["--no-eval"], "--no-eval"],
    [["--no-pids-limit"], "--no-pids-limit"],
    [["--no-bogus"], "--no-bogus"],
    [["main.py", "--jsonn"], "--jsonn"],
    [["-ev", "x"], "-ev"],
  ])("refuses %p, naming the flag", (raw, flag) => {
    const error = usageError(() => parse(raw));
    expect(error.message).toBe(`Cannot run "isol8 run": unknown flag "${flag}"`);
    expect(error.hint).toBe("see isol8 run --help");
  });

  test("a string flag without a value names the flag", () => {
    expect(usageError(() => parse(["--eval"])).message).toBe("Cannot use --eval: it needs a value");
  });

  test("a switch given a value other than true/false names the flag", () => {
    expect(usageError(() => parse(["--json=yes"])).message).toBe("Cannot use --json=yes: it is a switch (true or false)");
  });
});
