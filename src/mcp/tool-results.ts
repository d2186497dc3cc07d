// What a tool call answers, from isol8's results (pure). Outcomes of the user's code are tool
// results: `isError` when the program failed (non-zero exit, killed, timed out) or the cell
// raised, was interrupted or lost its interpreter. Text for the model, the whole result as
// structured content for programs.
import type { CallToolResult, ContentBlock } from "@modelcontextprotocol/sdk/types.js";
import type { CellResult, MimeBundle } from "../protocol/context";
import type { ExecutionResult } from "../protocol/execution";

const text = (value: string): ContentBlock => ({ type: "text", text: value });

/** One line saying how a program ended. */
export function exitLine(result: ExecutionResult): string {
  const reason = result.resourceUsage.killReason;
  if (result.timedOut) return `timed out after ${result.durationMs} ms${result.timeoutPhase && result.timeoutPhase !== "run" ? ` (while in ${result.timeoutPhase})` : ""}; exit code ${result.exitCode}`;
  if (result.oomKilled || reason === "memory-limit") return `killed: over the memory limit; exit code ${result.exitCode}`;
  if (reason === "pids-limit") return `killed: over the process limit; exit code ${result.exitCode}`;
  if (reason === "aborted") return `stopped (cancelled); exit code ${result.exitCode}`;
  const truncated = result.truncated ? " (output cut at the output limit; the program was stopped there)" : "";
  return `exit code ${result.exitCode}${truncated} in ${result.durationMs} ms`;
}

/** Did the program fail (the tool result's `isError`)? */
export function programFailed(result: ExecutionResult): boolean {
  return result.exitCode !== 0 || result.timedOut || result.oomKilled || result.resourceUsage.killReason !== null;
}

/** A section of the text answer, when it has anything. */
const section = (title: string, body: string | undefined): string[] => (body ? [`--- ${title} ---`, body.endsWith("\n") ? body.slice(0, -1) : body] : []);

const artifactLines = (artifacts: { path: string; size: number }[] | undefined): string[] =>
  artifacts?.length ? ["--- files created or changed under /sandbox ---", ...artifacts.map((a) => `${a.path} (${a.size} bytes)`)] : [];

/** run_code's answer: stdout, stderr and how it ended as text; the whole result as structured content. */
export function executionToolResult(result: ExecutionResult): CallToolResult {
  const lines = [exitLine(result), ...section("stdout", result.stdout), ...section("stderr", result.stderr), ...artifactLines(result.artifacts)];
  return {
    content: [text(lines.join("\n"))],
    structuredContent: result as unknown as Record<string, unknown>,
    isError: programFailed(result),
  };
}

/**
 * One rich result as content: a PNG or JPEG as an image; otherwise the richest text form
 * (markdown, HTML, LaTeX, SVG source, JSON), else the plain-text form (`text/plain` is always there).
 */
export function bundleContent(bundle: MimeBundle): ContentBlock {
  for (const mimeType of ["image/png", "image/jpeg"] as const) {
    const data = bundle[mimeType];
    if (data) return { type: "image", data, mimeType };
  }
  for (const mimeType of ["text/markdown", "text/html", "text/latex", "image/svg+xml", "application/json"] as const) {
    const value = bundle[mimeType];
    if (value) return text(value);
  }
  return text(bundle["text/plain"]);
}

/** Did the cell fail (the tool result's `isError`)? */
export function cellFailed(result: CellResult): boolean {
  return result.status !== "ok" || result.interrupted;
}

/** One line saying how a cell ended, when it did not simply run to its end. */
function cellEndLine(result: CellResult): string[] {
  if (result.contextLost) {
    return [`the interpreter was lost (${result.contextLost.reason}): its variables are gone; the next run_cell starts a fresh one`];
  }
  if (result.interrupted) return ["interrupted (its timeout, or cancelled): the interpreter kept its state"];
  return [];
}

/**
 * run_cell's answer: printed output, each rich result in order (images as image content), the
 * error's traceback, and how it ended; the whole result as structured content.
 */
export function cellToolResult(result: CellResult, notes: readonly string[] = []): CallToolResult {
  const head = [...notes, ...section("stdout", result.stdout), ...section("stderr", result.stderr)];
  const tail = [
    ...(result.error ? section("error", result.error.traceback || `${result.error.name}: ${result.error.value}`) : []),
    ...cellEndLine(result),
    ...(result.truncated.results ? ["(some rich results were dropped: over the results limit)"] : []),
    ...artifactLines(result.artifacts),
  ];
  const content = [...(head.length ? [text(head.join("\n"))] : []), ...result.results.map(bundleContent), ...(tail.length ? [text(tail.join("\n"))] : [])];
  return {
    content: content.length ? content : [text("(no output)")],
    structuredContent: result as unknown as Record<string, unknown>,
    isError: cellFailed(result),
  };
}

/** A progress message: the end of the output so far (a notification stays small). */
export function progressMessage(output: string, maxChars = 2000): string {
  return output.length <= maxChars ? output : `…${output.slice(output.length - maxChars)}`;
}
