/**
 * Network log entries as the engine returns them (`networkLogs`), with secret values
 * masked: a program can put a secret in a URL it requests (it may reach an allowed host:
 * that cannot be prevented), but the log never shows it (docs/SECURITY.md G7).
 */
import type { NetworkLogEntry } from "../../protocol/execution";
import type { RequestSummary } from "./proxy-request";

/** How one connection ended, before masking (the entry's outcome fields, with the raw request). */
export interface ConnectionOutcome
  extends RequestSummary,
    Pick<NetworkLogEntry, "action" | "reason" | "status" | "durationMs" | "bytesIn" | "bytesOut"> {
  startedAt: Date;
}

/**
 * Replaces every masked value with `***`: as written, percent-encoded (as a URL carries
 * it, with `%20` or `+` for spaces), lower-cased (as a canonical host carries it) and as
 * raw UTF-8 bytes (as a request head, read as latin1, carries it).
 */
export function createTextMask(values: readonly string[]): (text: string) => string {
  const needles = new Set<string>();
  for (const value of values) {
    if (value.length === 0) continue;
    const encoded = encodeURIComponent(value);
    const raw = Buffer.from(value, "utf8").toString("latin1");
    for (const form of [value, raw, encoded, encoded.replace(/%20/g, "+")]) {
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
