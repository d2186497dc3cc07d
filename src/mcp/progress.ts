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

/** The time and timers the reporter uses (the real ones by default; tests pass a fake clock). */
export interface ProgressClock {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(run: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const REAL_CLOCK: ProgressClock = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  setInterval: (run, ms) => {
    const handle = setInterval(run, ms);
    // A heartbeat never keeps the process alive.
    handle.unref?.();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

export interface ProgressOptions {
  intervalMs?: number;
  heartbeatMs?: number;
  clock?: ProgressClock;
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
  const clock = options.clock ?? REAL_CLOCK;
  const started = clock.now();
  let progress = 0;
  let lastSent = started;
  let latest: string | null = null;
  let pending: unknown;
  let stopped = false;
  const flush = () => {
    pending = undefined;
    if (stopped) return;
    lastSent = clock.now();
    progress += 1;
    const message = latest ?? `running (${Math.round((lastSent - started) / 1000)} s)`;
    void send({ method: "notifications/progress", params: { progressToken: token, progress, message } }).catch(() => {});
  };
  const heartbeat = clock.setInterval(() => {
    if (pending === undefined && clock.now() - lastSent >= heartbeatMs) flush();
  }, heartbeatMs);
  return {
    report(output) {
      if (stopped) return;
      latest = progressMessage(output);
      pending ??= clock.setTimeout(flush, Math.max(0, intervalMs - (clock.now() - lastSent)));
    },
    stop() {
      stopped = true;
      if (pending !== undefined) clock.clearTimeout(pending);
      clock.clearInterval(heartbeat);
    },
  };
}
