import { describe, expect, test } from "bun:test";
import type { KillReason } from "../../protocol/execution";
import type { ExitReport } from "../supervisor/protocol";
import { exitCodeOf, killReasonOf, runtimeOutOfMemory } from "./result";

type Report = Pick<ExitReport, "reason" | "oomKilled" | "pidsLimitHit">;
const exited: Report = { reason: "exited", oomKilled: false, pidsLimitHit: false };

describe("killReasonOf", () => {
  test.each<[string, Report, boolean, KillReason | null]>([
    ["a normal exit", exited, false, null],
    ["a timeout", { ...exited, reason: "timeout" }, false, "timeout"],
    ["a timeout that also hit OOM", { ...exited, reason: "timeout", oomKilled: true }, false, "timeout"],
    ["an OOM kill", { ...exited, oomKilled: true }, false, "memory-limit"],
    ["the output cap (supervisor)", { ...exited, reason: "output-cap" }, false, "output-cap"],
    ["truncated output of a finished program", exited, true, "output-cap"],
    ["an abort", { ...exited, reason: "aborted" }, false, "aborted"],
    ["the pids limit", { ...exited, pidsLimitHit: true }, false, "pids-limit"],
    ["OOM beats the output cap", { ...exited, reason: "output-cap", oomKilled: true }, false, "memory-limit"],
  ])("%s → %p", (_, report, truncated, reason) => {
    expect(killReasonOf(report, truncated)).toBe(reason);
  });
});

describe("exitCodeOf", () => {
  test.each<[string, number, KillReason | null, number]>([
    ["the program's own code", 3, null, 3],
    ["a signal death (the supervisor reports 128 + signal)", 143, null, 143],
    ["no code (killed before reporting)", -1, "timeout", 137],
    ["the output cap while still writing (killed)", 137, "output-cap", 137],
    ["the output cap after the program exited 0 on its own: the same 137", 0, "output-cap", 137],
    ["a timeout reports what the kill gave", 137, "timeout", 137],
  ])("%s", (_, code, reason, expected) => {
    expect(exitCodeOf({ exitCode: code }, reason)).toBe(expected);
  });
});

describe("runtimeOutOfMemory", () => {
  const node = { outOfMemory: { exitCodes: [133, 134], stderr: "JavaScript heap out of memory|Fatal JavaScript out of memory" } };
  const python = { outOfMemory: { exitCodes: [1], stderr: "(^|\\n)MemoryError(: [^\\n]*)?\\n?$" } };
  test.each<[string, typeof node | typeof python | object, number, string, boolean]>([
    ["node's V8 abort", node, 134, "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n 1: 0x..", true],
    ["deno's V8 trap", node, 133, "# Fatal JavaScript out of memory: Reached heap limit\n", true],
    ["node aborting for another reason", node, 134, "Error: boom\n", false],
    ["the message with another exit code", node, 1, "JavaScript heap out of memory", false],
    ["python's MemoryError as the last line", python, 1, "Traceback (most recent call last):\n  ...\nMemoryError\n", true],
    ["python's MemoryError with a message", python, 1, "...\nMemoryError: cannot allocate\n", true],
    ["MemoryError followed by more output", python, 1, "MemoryError\nmore\n", false],
    ["a runtime without a rule", {}, 134, "JavaScript heap out of memory", false],
  ])("%s → %p", (_, runtime, code, tail, expected) => {
    expect(runtimeOutOfMemory(runtime, code, tail)).toBe(expected);
  });
});
