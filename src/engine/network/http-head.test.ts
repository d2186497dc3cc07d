import { describe, expect, test } from "bun:test";
import { endToEndHeaders, findHeadEnd, type Header, parseHead, proxyResponse, serializeHead } from "./http-head";

describe("findHeadEnd", () => {
  test.each([
    ["GET / HTTP/1.1\r\nHost: a\r\n\r\nbody", 27],
    ["GET / HTTP/1.1\nHost: a\n\nbody", 24],
    ["GET / HTTP/1.1\r\nHost: a\r\n", -1],
    ["GET / HTTP/1.1\r\nHost: a\r\n\r", -1],
    ["", -1],
  ])("%j → %d", (text, expected) => {
    expect(findHeadEnd(Buffer.from(text))).toBe(expected);
  });

  test("resumes from an offset without missing a terminator that straddles it", () => {
    const data = Buffer.from("GET / HTTP/1.1\r\nA: b\r\n\r\n");
    expect(findHeadEnd(data, data.length - 2 - 3)).toBe(data.length);
  });
});

describe("parseHead", () => {
  test("reads the start line and headers, trimming values", () => {
    expect(parseHead("GET http://a/ HTTP/1.1\r\nHost:  a \r\nX-Empty:\r\n\r\n")).toEqual({
      startLine: "GET http://a/ HTTP/1.1",
      headers: [
        ["Host", "a"],
        ["X-Empty", ""],
      ],
    });
  });

  test.each([
    ["", "malformed start line"],
    ["GET\x00 / HTTP/1.1\r\n\r\n", "malformed start line"],
    ["GET\t/ HTTP/1.1\r\n\r\n", "malformed start line"],
    ["GET / HTTP/1.1\r\n folded\r\n\r\n", "folded header lines are not supported"],
    ["GET / HTTP/1.1\r\nNo colon\r\n\r\n", "malformed header line"],
    ["GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "malformed header line"],
    ["GET / HTTP/1.1\r\nHost : x\r\n\r\n", "malformed header line"],
    ["GET / HTTP/1.1\r\n: x\r\n\r\n", "malformed header line"],
    ["GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 'malformed value of header "X"'],
    ["GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", 'malformed value of header "X"'],
  ])("%j is refused: %s", (text, error) => {
    expect(parseHead(text)).toEqual({ error });
  });
});

describe("endToEndHeaders", () => {
  const headers: Header[] = [
    ["Host", "a"],
    ["Connection", "keep-alive, X-Private, Content-Length, Host"],
    ["Keep-Alive", "timeout=5"],
    ["Proxy-Authorization", "Basic x"],
    ["proxy-connection", "keep-alive"],
    ["Proxy-Anything", "1"],
    ["TE", "trailers"],
    ["Upgrade", "websocket"],
    ["X-Private", "1"],
    ["Content-Length", "3"],
    ["Transfer-Encoding", "chunked"],
    ["Accept", "*/*"],
  ];

  test("drops hop-by-hop, Proxy-* and Connection-named headers, never the framing ones", () => {
    expect(endToEndHeaders(headers).map(([n]) => n)).toEqual(["Host", "Content-Length", "Transfer-Encoding", "Accept"]);
  });

  test("drops the extra names the caller gives", () => {
    expect(endToEndHeaders(headers, ["host", "accept"]).map(([n]) => n)).toEqual(["Content-Length", "Transfer-Encoding"]);
  });
});

describe("serialising", () => {
  test("serializeHead keeps every byte (latin1)", () => {
    expect(serializeHead("HTTP/1.1 200 OK", [["X", "caf\u00e9"]])).toEqual(Buffer.from("HTTP/1.1 200 OK\r\nX: caf\xe9\r\n\r\n", "latin1"));
  });

  test("proxyResponse: status, one-line reason as body and header, Connection: close", () => {
    const text = proxyResponse(403, 'host "x" is not\r\nallowed \u00e9').toString("utf8");
    expect(text).toBe(
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 27\r\nConnection: close\r\n" +
        'X-Isol8-Reason: host "x" is not allowed ?\r\n\r\nhost "x" is not allowed \u00e9\n',
    );
  });
});
