import { describe, expect, test } from "bun:test";
import { createBodyFramer, type FramerResult } from "./body-framing";
import type { BodyFraming } from "./proxy-request";

/** Feeds chunks; returns the forwarded body, whether it ended, and the first error. */
function frame(framing: BodyFraming, chunks: string[]): { body: string; done: boolean; error?: string } {
  const framer = createBodyFramer(framing);
  let body = "";
  for (const chunk of chunks) {
    const result: FramerResult = framer.push(Buffer.from(chunk, "latin1"));
    if ("error" in result) return { body, done: framer.done, error: result.error };
    body += result.body.toString("latin1");
  }
  return { body, done: framer.done };
}

/** Every way of cutting the text into two chunks. */
const splits = (text: string) => Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]);

describe("Content-Length bodies", () => {
  test("take exactly the length and drop what follows", () => {
    expect(frame({ type: "length", length: 5 }, ["hel", "lo GET /next"])).toEqual({ body: "hello", done: true });
  });

  test("are not done until the length has arrived", () => {
    expect(frame({ type: "length", length: 5 }, ["hel"])).toEqual({ body: "hel", done: false });
  });

  test("length 0 and no body are done at once", () => {
    expect(createBodyFramer({ type: "length", length: 0 }).done).toBe(true);
    expect(frame({ type: "none" }, ["GET /smuggled"])).toEqual({ body: "", done: true });
  });
});

describe("chunked bodies", () => {
  const wire = "5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n";
  const canonical = "5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";

  test("are re-chunked (extensions and trailers dropped), split anywhere", () => {
    for (const parts of splits(`${wire}GET /smuggled HTTP/1.1\r\n\r\n`)) {
      expect(frame({ type: "chunked" }, parts)).toEqual({ body: canonical, done: true });
    }
  });

  test("byte by byte", () => {
    expect(frame({ type: "chunked" }, [...wire])).toEqual({ body: canonical, done: true });
  });

  test("bare LF line ends are read and CRLF is written", () => {
    expect(frame({ type: "chunked" }, ["3\nabc\n0\n\n"])).toEqual({ body: "3\r\nabc\r\n0\r\n\r\n", done: true });
  });

  test("an unfinished body is not done", () => {
    expect(frame({ type: "chunked" }, ["5\r\nhel"])).toEqual({ body: "5\r\nhel", done: false });
  });

  test.each([
    ["x\r\n", "malformed chunk size"],
    ["\r\n", "malformed chunk size"],
    ["-1\r\n", "malformed chunk size"],
    ["0x5\r\n", "malformed chunk size"],
    ["12345678901234\r\n", "malformed chunk size"],
    ["3\r\nabcd\r\n", "malformed chunk end"],
    [`${"1".repeat(5000)}`, "chunk line too long"],
  ])("%j is refused: %s", (text, error) => {
    expect(frame({ type: "chunked" }, [text]).error).toBe(error);
  });
});
