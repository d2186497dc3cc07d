import { describe, expect, test } from "bun:test";
import { createServerLogger, formatLogLine } from "./logging";

const time = new Date("2026-01-02T03:04:05.678Z");

describe("log lines", () => {
  test.each([
    ["json", "info", "request", { requestId: "r-1", status: 200, principal: null }, '{"time":"2026-01-02T03:04:05.678Z","level":"info","msg":"request","requestId":"r-1","status":200,"principal":null}'],
    ["json", "warn", "two\nlines", { skipped: undefined }, '{"time":"2026-01-02T03:04:05.678Z","level":"warn","msg":"two\\nlines"}'],
    ["pretty", "info", "request", { requestId: "r-1", route: "/session/{id}", status: 200 }, '2026-01-02T03:04:05.678Z INFO  request requestId=r-1 route="/session/{id}" status=200'],
    ["pretty", "error", "two\nlines", { path: "/a b" }, '2026-01-02T03:04:05.678Z ERROR two\\nlines path="/a b"'],
  ] as const)("%s %s %p", (format, level, message, fields, line) => {
    expect(formatLogLine(format, time, level, message, fields)).toBe(line);
  });

  test("levels below the floor are not written; engine events only at debug", () => {
    const lines: string[] = [];
    const info = createServerLogger({ format: "json", level: "info", write: (l) => lines.push(l), now: () => time });
    info.log("debug", "hidden");
    info.engine({ type: "container-destroyed" });
    info.request({ requestId: "r", method: "GET", route: "/health", path: "/health", status: 200, durationMs: 1.234, principal: null, client: "127.0.0.1" });
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["request"]);
    const debug = createServerLogger({ format: "json", level: "debug", write: (l) => lines.push(l), now: () => time });
    debug.engine({ type: "execution", runtime: "python", outcome: "ok", durationMs: 12.345, phases: { queueMs: 0, acquireMs: 1, installMs: 0, runMs: 10, collectMs: 0 }, requestId: "r" });
    expect(JSON.parse(lines.at(-1)!)).toEqual({
      time: time.toISOString(),
      level: "debug",
      msg: "execution",
      runtime: "python",
      outcome: "ok",
      durationMs: 12.3,
      requestId: "r",
      queueMs: 0,
      acquireMs: 1,
      installMs: 0,
      runMs: 10,
      collectMs: 0,
    });
  });

  test("a 5xx answer is logged as a warning", () => {
    const lines: string[] = [];
    const logger = createServerLogger({ format: "json", level: "info", write: (l) => lines.push(l), now: () => time });
    logger.request({ requestId: "r", method: "POST", route: "/execute", path: "/execute", status: 503, durationMs: 1, principal: "key:x", client: null });
    expect(JSON.parse(lines[0]!).level).toBe("warn");
  });

  test("an access line names the client's address", () => {
    const lines: string[] = [];
    const logger = createServerLogger({ format: "pretty", level: "info", write: (l) => lines.push(l), now: () => time });
    logger.request({ requestId: "r", method: "GET", route: "/health", path: "/health", status: 200, durationMs: 1, principal: null, client: "2001:db8::7" });
    expect(lines[0]).toEndWith(" principal=null client=2001:db8::7");
  });
});
