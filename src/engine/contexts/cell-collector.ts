import * as v from "valibot";
import {
  type Artifact,
  type CellError,
  CellErrorSchema,
  type CellResult,
  CONTEXT_LOST_REASONS,
  type ContextLostReason,
  DriverResultSchema,
  type MimeBundle,
  RESULT_MIME_TYPES,
} from "../../protocol/context";
import type { CellReport, DriverFrame } from "../supervisor/context-frames";

/** What a driver frame means, once checked: everything it sends is untrusted. */
export type CheckedFrame = { kind: "result"; bundle: MimeBundle; truncated: boolean } | { kind: "error"; error: CellError } | { kind: "invalid" };

/** Parses and checks one driver frame: JSON of the documented shape, known MIME types only. */
export function checkDriverFrame(frame: DriverFrame): CheckedFrame {
  let json: unknown;
  try {
    json = JSON.parse(frame.payload.toString("utf8"));
  } catch {
    return { kind: "invalid" };
  }
  if (frame.kind === "error") {
    const parsed = v.safeParse(CellErrorSchema, json);
    return parsed.success ? { kind: "error", error: parsed.output } : { kind: "invalid" };
  }
  const parsed = v.safeParse(DriverResultSchema, json);
  if (!parsed.success) return { kind: "invalid" };
  const bundle: Record<string, string> = {};
  for (const mime of RESULT_MIME_TYPES) {
    const value = parsed.output.data[mime];
    if (typeof value === "string") bundle[mime] = value;
  }
  return { kind: "result", bundle: bundle as MimeBundle, truncated: parsed.output.truncated === true };
}

/** Maps the supervisor's end-of-cell reason to a lost reason (an unknown word is a protocol fault). */
export function lostReason(reason: string): ContextLostReason {
  return (CONTEXT_LOST_REASONS as readonly string[]).includes(reason) ? (reason as ContextLostReason) : "protocol";
}

export interface CellOutcome {
  executionId: string;
  contextId: string;
  stdout: string;
  stderr: string;
  results: MimeBundle[];
  error?: CellError;
  /** A driver result said it was cut to the per-result limit. */
  resultTruncated: boolean;
  /** A driver frame did not parse: the context is killed as a protocol violation. */
  invalidFrame: boolean;
  artifacts: Artifact[];
}

/** The cell's result from what was collected and the supervisor's report (pure). */
export function cellResult(outcome: CellOutcome, report: CellReport, durationMs: number): CellResult {
  const lost = report.status === "lost" || outcome.invalidFrame;
  const reason: ContextLostReason = outcome.invalidFrame ? "protocol" : lostReason(report.reason);
  return {
    executionId: outcome.executionId,
    contextId: outcome.contextId,
    status: lost ? "lost" : outcome.error ? "error" : "ok",
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    results: outcome.results,
    ...(outcome.error ? { error: outcome.error } : {}),
    interrupted: report.interrupted && !lost,
    ...(lost ? { contextLost: { reason } } : {}),
    truncated: {
      stdout: report.truncatedStdout,
      stderr: report.truncatedStderr,
      results: report.resultsTruncated || outcome.resultTruncated,
    },
    artifacts: outcome.artifacts,
    durationMs,
  };
}
