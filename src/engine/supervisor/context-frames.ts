// The context frames of the supervisor protocol (embedded/supervisor.c, "contexts"): open a
// driver as its own uid, run a cell in it, close it. Both sides are documented there.
import { encodeExec, encodeFrame, parseKeyValues } from "./protocol";

/** What the supervisor needs to start a context's driver. */
export interface ContextOpenSpec {
  /** The supervisor's number for the context (unique in its container). */
  slot: number;
  /** The context's own uid (never the container's sandbox uid, never another context's). */
  uid: number;
  argv: readonly string[];
  env: readonly string[];
  /** `signal`: SIGINT to the driver's process group; `frame`: an 'i' frame on its cell pipe. */
  interrupt: "signal" | "frame";
  /** How long the driver may take to say it is ready. */
  startTimeoutMs: number;
}

export interface CellLimits {
  timeoutMs: number;
  /** How long an interrupted cell may take to end before its context is killed. */
  graceMs: number;
  maxOutputBytes: number;
  maxResultBytes: number;
  maxResultsBytes: number;
}

const u32 = (n: number) => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.round(n))), 0);
  return b;
};

function tlv(key: string, value: string): Buffer {
  const data = Buffer.from(value, "utf8");
  const header = Buffer.allocUnsafe(5);
  header.write(key, 0, "latin1");
  header.writeUInt32BE(data.length, 1);
  return Buffer.concat([header, data]);
}

export function encodeContextOpen(spec: ContextOpenSpec): Buffer {
  const exec = encodeExec({ argv: spec.argv, env: spec.env, timeoutMs: spec.startTimeoutMs, maxOutputBytes: 0 });
  const extra = Buffer.concat([tlv("u", String(spec.uid)), tlv("n", String(spec.slot)), tlv("m", spec.interrupt === "signal" ? "s" : "f")]);
  return encodeFrame("O", Buffer.concat([exec.subarray(5), extra]));
}

export function encodeCell(slot: number, limits: CellLimits, code: string): Buffer {
  return encodeFrame(
    "Y",
    Buffer.concat([
      u32(slot),
      u32(limits.timeoutMs),
      u32(limits.graceMs),
      u32(limits.maxOutputBytes),
      u32(limits.maxResultBytes),
      u32(limits.maxResultsBytes),
      Buffer.from(code, "utf8"),
    ]),
  );
}

export function encodeContextClose(slot: number): Buffer {
  return encodeFrame("Q", u32(slot));
}

/** The supervisor's answer to an open: the driver's pid, or why it did not start. */
export type OpenReply = { ok: true; pid: number } | { ok: false; error: string; stderr: string };

export function parseOpenReply(payload: Buffer): OpenReply {
  const text = payload.toString("utf8");
  const kv = parseKeyValues(text);
  if (text.startsWith("ok\n")) return { ok: true, pid: Number(kv.pid ?? 0) || 0 };
  return { ok: false, error: kv.error ?? text, stderr: kv.stderr ?? "" };
}

/** The supervisor's report at the end of a cell. */
export interface CellReport {
  status: "ok" | "lost";
  /** For `lost`: why; otherwise `timeout`/`cancelled` when the cell was interrupted, else `none`. */
  reason: string;
  interrupted: boolean;
  truncatedStdout: boolean;
  truncatedStderr: boolean;
  resultsTruncated: boolean;
  oomKilled: boolean;
  pidsLimitHit: boolean;
  durationUs: number;
  /** The driver's exit code or signal when it ended (-1 / 0 while it runs). */
  driverExit: number;
  driverSignal: number;
}

export function parseCellReport(payload: Buffer): CellReport {
  const kv = parseKeyValues(payload.toString("utf8"));
  const flag = (key: string) => kv[key] === "1";
  return {
    status: kv.status === "ok" ? "ok" : "lost",
    reason: kv.reason ?? "protocol",
    interrupted: flag("interrupted"),
    truncatedStdout: flag("truncated_stdout"),
    truncatedStderr: flag("truncated_stderr"),
    resultsTruncated: flag("results_truncated"),
    oomKilled: flag("oom_killed"),
    pidsLimitHit: flag("pids_limit_hit"),
    durationUs: Number(kv.duration_us ?? 0) || 0,
    driverExit: kv.driver_exit === undefined ? -1 : Number(kv.driver_exit),
    driverSignal: Number(kv.driver_signal ?? 0) || 0,
  };
}

/** A driver frame the supervisor passed on ('V'): its type ('r' result, 'e' error) and payload. */
export interface DriverFrame {
  kind: "result" | "error";
  payload: Buffer;
}

export function parseDriverFrame(payload: Buffer): DriverFrame | null {
  const type = payload[0];
  if (type === 0x72) return { kind: "result", payload: payload.subarray(1) };
  if (type === 0x65) return { kind: "error", payload: payload.subarray(1) };
  return null;
}
