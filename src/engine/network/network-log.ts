/**
 * Network log entries as the engine returns them (`networkLogs`), with secret values
 * masked: a program can put a secret in a URL it requests (it may reach an allowed host:
 * that cannot be prevented), but the log never shows it, nor its encoded forms
 * (docs/SECURITY.md G7).
 */
import type { NetworkLogEntry } from "../../protocol/execution";
import { secretNeedles } from "../output/secret-needles";
import type { RequestSummary } from "./proxy-request";

/** How one connection ended, before masking (the entry's outcome fields, with the raw request). */
export interface ConnectionOutcome
  extends RequestSummary,
    Pick<NetworkLogEntry, "action" | "reason" | "status" | "durationMs" | "bytesIn" | "bytesOut"> {
  startedAt: Date;
}

/**
 * Replaces every form of every masked value that `secretNeedles` defines (the value, its
 * URL, hex and base64 encodings) with `***`: each as text, as raw UTF-8 bytes (as a request
 * head, read as latin1, carries it) and lower-cased (as a canonical host carries it).
 */
export function createTextMask(values: readonly string[]): (text: string) => string {
  const needles = new Set<string>();
  for (const needle of secretNeedles(values)) {
    for (const form of [needle.toString("utf8"), needle.toString("latin1")]) {
      needles.add(form);
      needles.add(form.toLowerCase());
    }
  }
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => ordered.reduce((out, needle) => out.split(needle).join("***"), text);
}

export function toLogEntry(outcome: ConnectionOutcome, mask: (text: string) => string): NetworkLogEntry {
  const entry: NetworkLogEntry = {
    timestamp: outcome.startedAt.toISOString(),
    method: mask(outcome.method),
    host: mask(outcome.host),
    port: outcome.port,
    path: outcome.path === null ? null : escapePath(mask(outcome.path)),
    action: outcome.action,
    status: outcome.status,
    durationMs: Math.round(outcome.durationMs),
    bytesIn: outcome.bytesIn,
    bytesOut: outcome.bytesOut,
  };
  if (outcome.reason !== undefined) entry.reason = mask(outcome.reason);
  return entry;
}

/**
 * Paths are attacker-chosen bytes (read as latin1): anything but visible ASCII is shown
 * percent-encoded, so a log printed on a terminal carries no C1 control or escape sequence.
 */
function escapePath(path: string): string {
  return path.replace(/[^\x21-\x7e]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}
