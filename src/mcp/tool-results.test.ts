import { describe, expect, test } from "bun:test";
import type { CellResult } from "../protocol/context";
import type { ExecutionResult } from "../protocol/execution";
import { bundleContent, cellToolResult, executionToolResult, progressMessage } from "./tool-results";

const execution = (over: Partial<ExecutionResult> = {}, killReason: ExecutionResult["resourceUsage"]["killReason"] = null): ExecutionResult => ({
  executionId: "e",
  runtime: "python",
  timestamp: new Date(0).toISOString(),
  stdout: "",
  stderr: "",
  exitCode: 0,
  durationMs: 5,
  phases: { queueMs: 0, acquireMs: 0, installMs: 0, runMs: 5, collectMs: 0 },
  truncated: false,
  timedOut: false,
  oomKilled: false,
  containerId: "c",
  resourceUsage: { cpuTimeMs: 0, peakMemoryBytes: 0, stdoutBytes: 0, stderrBytes: 0, networkBytesIn: null, networkBytesOut: null, killReason },
  ...over,
});

const cell = (over: Partial<CellResult> = {}): CellResult => ({
  executionId: "e",
  contextId: "c",
  status: "ok",
  stdout: "",
  stderr: "",
  results: [],
  interrupted: false,
  truncated: { stdout: false, stderr: false, results: false },
  artifacts: [],
  durationMs: 1,
  ...over,
});

const textOf = (result: { content: unknown[] }) => (result.content as { type: string; text?: string }[]).filter((c) => c.type === "text").map((c) => c.text).join("\n");

describe("executionToolResult", () => {
  test.each([
    ["exit 0", execution({ stdout: "hi\n" }), false, ["exit code 0", "--- stdout ---\nhi"]],
    ["non-zero exit", execution({ exitCode: 1, stderr: "boom\n" }), true, ["exit code 1", "--- stderr ---\nboom"]],
    ["timeout", execution({ exitCode: 137, timedOut: true }, "timeout"), true, ["timed out"]],
    ["out of memory", execution({ exitCode: 137, oomKilled: true }, "memory-limit"), true, ["memory limit"]],
    ["process limit", execution({ exitCode: 137 }, "pids-limit"), true, ["process limit"]],
    ["cancelled", execution({ exitCode: 137 }, "aborted"), true, ["cancelled"]],
    ["output cap, exit 0", execution({ truncated: true, stdout: "x" }, null), false, ["output cut"]],
  ] as const)("%s", (_, result, isError, texts) => {
    const answer = executionToolResult(result);
    expect(answer.isError).toBe(isError);
    for (const text of texts) expect(textOf(answer)).toContain(text);
    expect(answer.structuredContent).toEqual(result as never);
  });

  test("files the run created are listed", () => {
    const answer = executionToolResult(execution({ artifacts: [{ path: "out.csv", size: 12, sha256: "x", mimeType: "text/csv" }] }));
    expect(textOf(answer)).toContain("out.csv (12 bytes)");
  });
});

describe("bundleContent", () => {
  test.each([
    ["png → image", { "text/plain": "<Figure>", "image/png": "iVBO" }, { type: "image", data: "iVBO", mimeType: "image/png" }],
    ["jpeg → image", { "text/plain": "x", "image/jpeg": "/9j/" }, { type: "image", data: "/9j/", mimeType: "image/jpeg" }],
    ["markdown before html", { "text/plain": "x", "text/html": "<b>", "text/markdown": "**x**" }, { type: "text", text: "**x**" }],
    ["html", { "text/plain": "df", "text/html": "<table>" }, { type: "text", text: "<table>" }],
    ["svg as its source", { "text/plain": "x", "image/svg+xml": "<svg/>" }, { type: "text", text: "<svg/>" }],
    ["plain", { "text/plain": "42" }, { type: "text", text: "42" }],
  ] as const)("%s", (_, bundle, content) => {
    expect(bundleContent(bundle as never)).toEqual(content as never);
  });
});

describe("cellToolResult", () => {
  test("output, then each rich result in order, then the error; isError for an error", () => {
    const answer = cellToolResult(
      cell({
        status: "error",
        stdout: "printed\n",
        results: [{ "text/plain": "<Figure>", "image/png": "iVBO" }, { "text/plain": "42" }],
        error: { name: "ValueError", value: "bad", traceback: "Traceback ...\nValueError: bad" },
      }),
    );
    expect(answer.isError).toBe(true);
    expect(answer.content.map((c) => c.type)).toEqual(["text", "image", "text", "text"]);
    expect(textOf(answer)).toContain("ValueError: bad");
  });

  test.each([
    ["ok", cell({ results: [{ "text/plain": "2" }] }), false, "2"],
    ["interrupted", cell({ interrupted: true }), true, "interrupted"],
    ["lost", cell({ status: "lost", contextLost: { reason: "memory-limit" } }), true, "lost (memory-limit)"],
    ["nothing at all", cell(), false, "(no output)"],
  ] as const)("%s", (_, result, isError, text) => {
    const answer = cellToolResult(result);
    expect(answer.isError).toBe(isError);
    expect(textOf(answer)).toContain(text);
  });
});

test("progressMessage keeps the end of long output", () => {
  expect(progressMessage("abc", 5)).toBe("abc");
  expect(progressMessage("abcdefgh", 5)).toBe("…defgh");
});
