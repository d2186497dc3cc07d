import { describe, expect, test } from "bun:test";
import { createTextMask, toLogEntry } from "./network-log";

describe("createTextMask", () => {
  test("masks values as written, percent-encoded, form-encoded and lower-cased", () => {
    const mask = createTextMask(["Tok en/1", ""]);
    expect(mask("/a?k=Tok en/1")).toBe("/a?k=***");
    expect(mask("/a?k=Tok%20en%2F1")).toBe("/a?k=***");
    expect(mask("/a?k=Tok+en%2F1")).toBe("/a?k=***");
    expect(mask("tok en/1.host.test")).toBe("***.host.test");
    expect(mask("nothing here")).toBe("nothing here");
  });

  test("masks a non-ASCII value sent as raw UTF-8 bytes", () => {
    const raw = Buffer.from("/k=p\u00e4ss", "utf8").toString("latin1");
    expect(createTextMask(["p\u00e4ss"])(raw)).toBe("/k=***");
  });

  test("no values: text unchanged", () => {
    expect(createTextMask([])("/x")).toBe("/x");
  });
});

test("toLogEntry masks method, host, path and reason, and rounds the duration", () => {
  const entry = toLogEntry(
    {
      method: "GET",
      host: "abc.sink.test",
      port: 80,
      path: "/abc",
      startedAt: new Date("2026-01-02T03:04:05.678Z"),
      action: "BLOCK",
      reason: 'host "abc.sink.test" is not in the allow list',
      status: 403,
      durationMs: 1.6,
      bytesIn: 0,
      bytesOut: 0,
    },
    createTextMask(["abc"]),
  );
  expect(entry).toEqual({
    timestamp: "2026-01-02T03:04:05.678Z",
    method: "GET",
    host: "***.sink.test",
    port: 80,
    path: "/***",
    action: "BLOCK",
    reason: 'host "***.sink.test" is not in the allow list',
    status: 403,
    durationMs: 2,
    bytesIn: 0,
    bytesOut: 0,
  });
  expect(toLogEntry({ ...entryBase(), path: null }, (t) => t)).not.toHaveProperty("reason");
});

test("logged paths show non-printable and non-ASCII bytes percent-encoded", () => {
  const path = "/a\x9b[2Jb\xe4%20c"; // C1 CSI (a terminal escape), latin1 byte, an existing escape
  expect(toLogEntry({ ...entryBase(), path }, (t) => t).path).toBe("/a%9B[2Jb%E4%20c");
});

function entryBase() {
  return {
    method: "CONNECT",
    host: "a.test",
    port: 443,
    startedAt: new Date(0),
    action: "ALLOW" as const,
    status: 200,
    durationMs: 0,
    bytesIn: 1,
    bytesOut: 2,
  };
}
