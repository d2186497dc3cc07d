import { describe, expect, test } from "bun:test";
import type { CellReport } from "../supervisor/context-frames";
import { parseCellReport, parseDriverFrame, parseOpenReply } from "../supervisor/context-frames";
import { type CellOutcome, cellResult, checkDriverFrame, lostReason } from "./cell-collector";

const frame = (kind: "result" | "error", json: unknown) => ({ kind, payload: Buffer.from(typeof json === "string" ? json : JSON.stringify(json)) });

describe("checkDriverFrame: everything a driver sends is untrusted", () => {
  test.each([
    ["a bundle", frame("result", { data: { "text/plain": "1" } }), { kind: "result", bundle: { "text/plain": "1" }, truncated: false }],
    ["unknown MIME types are dropped", frame("result", { data: { "text/plain": "1", "application/x-evil": "x" } }), { kind: "result", bundle: { "text/plain": "1" }, truncated: false }],
    ["a cut result", frame("result", { data: { "text/plain": "…" }, truncated: true }), { kind: "result", bundle: { "text/plain": "…" }, truncated: true }],
    ["no text/plain", frame("result", { data: { "text/html": "x" } }), { kind: "invalid" }],
    ["a non-string value", frame("result", { data: { "text/plain": 1 } }), { kind: "invalid" }],
    ["not JSON", frame("result", "nope"), { kind: "invalid" }],
    ["an error", frame("error", { name: "E", value: "v", traceback: "t" }), { kind: "error", error: { name: "E", value: "v", traceback: "t" } }],
    ["an error without traceback", frame("error", { name: "E", value: "v" }), { kind: "invalid" }],
  ])("%s", (_name, input, expected) => {
    expect(checkDriverFrame(input as never)).toEqual(expected as never);
  });
});

describe("cellResult", () => {
  const outcome: CellOutcome = {
    executionId: "e",
    contextId: "c",
    stdout: "",
    stderr: "",
    results: [],
    resultTruncated: false,
    invalidFrame: false,
    artifacts: [],
  };
  const report = (over: Partial<CellReport>): CellReport => ({ ...parseCellReport(Buffer.from("status=ok\nreason=none\n")), ...over });

  test.each([
    ["ok", outcome, report({}), { status: "ok", interrupted: false, contextLost: undefined }],
    ["error", { ...outcome, error: { name: "E", value: "", traceback: "" } }, report({}), { status: "error", interrupted: false, contextLost: undefined }],
    ["interrupted, recovered", outcome, report({ interrupted: true, reason: "timeout" }), { status: "ok", interrupted: true, contextLost: undefined }],
    ["lost at the timeout", outcome, report({ status: "lost", reason: "timeout", interrupted: true }), { status: "lost", interrupted: false, contextLost: { reason: "timeout" } }],
    ["an invalid frame is a protocol loss", { ...outcome, invalidFrame: true }, report({}), { status: "lost", interrupted: false, contextLost: { reason: "protocol" } }],
    ["an unknown reason is a protocol loss", outcome, report({ status: "lost", reason: "weird" }), { status: "lost", interrupted: false, contextLost: { reason: "protocol" } }],
  ])("%s", (_name, o, r, expected) => {
    const result = cellResult(o, r, 1);
    expect({ status: result.status, interrupted: result.interrupted, contextLost: result.contextLost }).toEqual(expected as never);
  });

  test("lostReason keeps known reasons", () => {
    expect(lostReason("memory-limit")).toBe("memory-limit");
    expect(lostReason("")).toBe("protocol");
  });
});

describe("context frames", () => {
  test("parseOpenReply", () => {
    expect(parseOpenReply(Buffer.from("ok\npid=12\n"))).toEqual({ ok: true, pid: 12 });
    expect(parseOpenReply(Buffer.from("error=the driver exited while starting\nstderr=boom\n"))).toEqual({
      ok: false,
      error: "the driver exited while starting",
      stderr: "boom",
    });
  });

  test("parseDriverFrame knows results and errors only", () => {
    expect(parseDriverFrame(Buffer.from("r{}"))).toEqual({ kind: "result", payload: Buffer.from("{}") });
    expect(parseDriverFrame(Buffer.from("e{}"))?.kind).toBe("error");
    expect(parseDriverFrame(Buffer.from("x{}"))).toBeNull();
  });

  test("parseCellReport", () => {
    const r = parseCellReport(Buffer.from("status=lost\nreason=memory-limit\ninterrupted=0\nresults_truncated=1\ndriver_exit=-1\ndriver_signal=9\n"));
    expect(r).toMatchObject({ status: "lost", reason: "memory-limit", interrupted: false, resultsTruncated: true, driverSignal: 9 });
  });
});
