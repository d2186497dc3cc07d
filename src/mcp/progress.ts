// Progress notifications of a tool call, for a client that asked for them (a progressToken):
// the end of the output so far, at most one notification per interval, and one every
// heartbeat while a run is silent (a client that resets its timeout on progress keeps waiting).
import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import { progressMessage } from "./tool-results";

export interface ProgressReporter {
  /** The output so far (sent soon, throttled). */
  report(output: string): void;
  stop(): void;
}

export interface ProgressOptions {
  intervalMs?: number;
  heartbeatMs?: number;
  now?: () => number;
}

const SILENT: ProgressReporter = { report() {}, stop() {} };

export function createProgressReporter(
  token: string | number | undefined,
  send: (notification: ServerNotification) => Promise<void>,
  options: ProgressOptions = {},
): ProgressReporter {
  if (token === undefined) return SILENT;
  const intervalMs = options.intervalMs ?? 250;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const now = options.now ?? Date.now;
  const started = now();
  let progress = 0;
  let lastSent = started;
  let latest: string | null = null;
  let pending: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const flush = () => {
    pending = undefined;
    if (stopped) return;
    lastSent = now();
    progress += 1;
    const message = latest ?? `running (${Math.round((lastSent - started) / 1000)} s)`;
    void send({ method: "notifications/progress", params: { progressToken: token, progress, message } }).catch(() => {});
  };
  const heartbeat = setInterval(() => {
    if (!pending && now() - lastSent >= heartbeatMs) flush();
  }, heartbeatMs);
  heartbeat.unref?.();
  return {
    report(output) {
      if (stopped) return;
      latest = progressMessage(output);
      pending ??= setTimeout(flush, Math.max(0, intervalMs - (now() - lastSent)));
    },
    stop() {
      stopped = true;
      clearTimeout(pending);
      clearInterval(heartbeat);
    },
  };
}
