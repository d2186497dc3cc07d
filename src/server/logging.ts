// The server's log: one line per entry, JSON (for collectors) or pretty (for people), on the
// writer it is given (stderr). It observes: requests (an access-log line each) and engine
// events (debug) reach it through serve.ts, never through calls sprinkled in the code.
import type { EngineEvent } from "../protocol/observe";
import type { RequestEvent } from "./request-event";

export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface ServerLogger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** One access-log line per answered request. */
  request(event: RequestEvent): void;
  /** Engine events, at debug level. */
  engine(event: EngineEvent): void;
  /** Would a line at this level be written? (Callers skip building costly fields.) */
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  format: LogFormat;
  level: LogLevel;
  write: (line: string) => void;
  now?: () => Date;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A pretty value: bare when it is a plain word, else JSON-quoted (so a line never breaks). */
const prettyValue = (value: string | number | boolean | null) => (typeof value === "string" && /^[\w.:/@+-]+$/.test(value) ? value : JSON.stringify(value));

/** One log line (pure). JSON: `time`, `level`, `msg`, then the fields; pretty: time, level, message, key=value. */
export function formatLogLine(format: LogFormat, time: Date, level: LogLevel, message: string, fields: LogFields = {}): string {
  const defined = Object.entries(fields).filter((entry): entry is [string, string | number | boolean | null] => entry[1] !== undefined);
  if (format === "json") return JSON.stringify({ time: time.toISOString(), level, msg: message, ...Object.fromEntries(defined) });
  const tail = defined.map(([key, value]) => ` ${key}=${prettyValue(value)}`).join("");
  return `${time.toISOString()} ${level.toUpperCase().padEnd(5)} ${message.replace(/\n/g, "\\n")}${tail}`;
}

export function createServerLogger(options: LoggerOptions): ServerLogger {
  const now = options.now ?? (() => new Date());
  const floor = RANK[options.level];
  const enabled = (level: LogLevel) => RANK[level] >= floor;
  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    if (enabled(level)) options.write(formatLogLine(options.format, now(), level, message, fields));
  };
  return {
    log,
    enabled,
    request: (event) =>
      log(event.status >= 500 ? "warn" : "info", "request", {
        requestId: event.requestId,
        method: event.method,
        route: event.route,
        path: event.path,
        status: event.status,
        durationMs: Math.round(event.durationMs * 10) / 10,
        principal: event.principal,
        client: event.client,
      }),
    engine(event) {
      if (!enabled("debug")) return;
      const { type, ...fields } = event;
      const phases = "phases" in fields && fields.phases ? fields.phases : null;
      const flat: LogFields = { ...fields, phases: undefined, ...(phases ?? {}) };
      if ("durationMs" in fields) flat.durationMs = Math.round(fields.durationMs * 10) / 10;
      log("debug", type, flat);
    },
  };
}
