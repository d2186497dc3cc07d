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

  test("masks the value's hex and base64 forms (the output's definition), also lower-cased as in a host", () => {
    const value = "s3cr3t-Token-4711";
    const mask = createTextMask([value]);
    const hex = Buffer.from(value).toString("hex");
    const b64 = Buffer.from(`ab${value}`).toString("base64url"); // alignment 2, URL-safe, unpadded
    expect(mask(`/a?h=${hex}&H=${hex.toUpperCase()}`)).toBe("/a?h=***&H=***");
    expect(mask(`/a?b=${b64}`)).toBe(`/a?b=${b64.slice(0, 3)}***`);
    expect(mask(`${b64.toLowerCase()}.sink.test`)).toBe(`${b64.slice(0, 3).toLowerCase()}***.sink.test`);
    expect(mask(`/a?b=${Buffer.from(value.slice(0, 6)).toString("base64")}`)).toBe("/a?b=czNjcjN0");
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
