import { describe, expect, test } from "bun:test";
import { parseHead } from "./http-head";
import { formatAuthority, type ProxyRequest, parseProxyRequest, type RequestFailure, splitAuthority, upstreamRequestHead } from "./proxy-request";

function parse(text: string): ProxyRequest | RequestFailure {
  const head = parseHead(text);
  if ("error" in head) throw new Error(head.error);
  return parseProxyRequest(head);
}

describe("splitAuthority", () => {
  test.each([
    ["sink.test:8080", 80, { host: "sink.test", port: 8080 }],
    ["sink.test", 80, { host: "sink.test", port: 80 }],
    ["sink.test:", 80, { host: "sink.test", port: 80 }],
    ["SINK.Test.:443", null, { host: "sink.test", port: 443 }],
    ["[::1]:443", null, { host: "::1", port: 443 }],
    ["[::1]", 80, { host: "::1", port: 80 }],
    ["127.1:80", null, { host: "127.0.0.1", port: 80 }],
    ["b\xc3\xbccher.test:80", null, { host: "xn--bcher-kva.test", port: 80 }], // UTF-8 bytes read as latin1
  ] as const)("%j → %j", (text, defaultPort, expected) => {
    expect(splitAuthority(text, defaultPort)).toEqual(expected);
  });

  test.each(["sink.test", "sink.test:0", "sink.test:65536", "sink.test:80a", "sink.test: 80", "::1:443", "[::1]x:443", "[::1:443", ":443", "a b:80", "[sink.test]:80"])(
    "%j is refused (no default port)",
    (text) => {
      expect(splitAuthority(text, null)).toBeNull();
    },
  );

  test("formatAuthority brackets IPv6 and leaves out the default port", () => {
    expect(formatAuthority("::1", 443)).toBe("[::1]:443");
    expect(formatAuthority("sink.test", 80, 80)).toBe("sink.test");
    expect(formatAuthority("sink.test", 8080, 80)).toBe("sink.test:8080");
  });
});

describe("parseProxyRequest", () => {
  test("CONNECT host:port", () => {
    expect(parse("CONNECT Sink.Test:443 HTTP/1.1\r\nHost: whatever\r\n\r\n")).toEqual({
      kind: "connect",
      method: "CONNECT",
      host: "sink.test",
      port: 443,
      path: null,
    });
  });

  test("absolute-form: path and query kept, fragment dropped, default port 80", () => {
    expect(parse("GET http://sink.test?q=1#frag HTTP/1.1\r\nHost: SINK.test.\r\n\r\n")).toMatchObject({
      kind: "http",
      host: "sink.test",
      port: 80,
      path: "/?q=1",
      body: { type: "none" },
    });
    expect(parse("GET HTTP://sink.test HTTP/1.1\r\nHost: sink.test:80\r\n\r\n")).toMatchObject({ path: "/", port: 80 });
  });

  test("the Host header must name the target, port included", () => {
    expect(parse("GET http://sink.test:8080/ HTTP/1.1\r\nHost: sink.test\r\n\r\n")).toMatchObject({
      status: 403,
      request: { host: "sink.test", port: 8080, path: "/" },
    });
    expect(parse("GET http://sink.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n")).toMatchObject({ status: 403 });
    expect(parse("GET http://sink.test/ HTTP/1.1\r\nHost: sink.test/x\r\n\r\n")).toMatchObject({ status: 403 });
    expect(parse("GET http://[::1]:81/ HTTP/1.1\r\nHost: [0::1]:81\r\n\r\n")).toMatchObject({ kind: "http", host: "::1" });
  });

  test("framing", () => {
    const post = (headers: string) => parse(`POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\n${headers}\r\n`);
    expect(post("Content-Length: 12\r\n")).toMatchObject({ body: { type: "length", length: 12 } });
    expect(post("Content-Length: 0\r\n")).toMatchObject({ body: { type: "length", length: 0 } });
    expect(post("Content-Length: 7, 7\r\nContent-Length: 7\r\n")).toMatchObject({ body: { type: "length", length: 7 } });
    expect(post("Transfer-Encoding: Chunked\r\n")).toMatchObject({ body: { type: "chunked" } });
    expect(post("Content-Length: +7\r\n")).toMatchObject({ status: 400, reason: "invalid Content-Length" });
    expect(post("Transfer-Encoding: chunked, chunked\r\n")).toMatchObject({ status: 400 });
    expect(parse("POST http://a.test/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")).toMatchObject({ status: 400 });
  });

  test.each([
    "GET / HTTP/1.1",
    "GET * HTTP/1.1",
    "OPTIONS * HTTP/1.1",
    "GET  http://a.test/ HTTP/1.1",
    "GET http://a.test/ HTTP/1.1 x",
    "G(T http://a.test/ HTTP/1.1",
    "GET http://a.test/ HTTP/1.2",
    "GET ftp://a.test/ HTTP/1.1",
    "GET http:/a.test/ HTTP/1.1",
    "GET http:// HTTP/1.1",
    "GET http://a.test:99999/ HTTP/1.1",
    "GET http://a.test@b.test/ HTTP/1.1",
    "CONNECT a.test HTTP/1.1",
    "CONNECT a.test:0 HTTP/1.1",
    "CONNECT [::1 HTTP/1.1",
  ])("%j gets 400", (line) => {
    expect(parse(`${line}\r\nHost: a.test\r\n\r\n`)).toMatchObject({ status: 400 });
  });
});

describe("upstreamRequestHead", () => {
  test("origin-form, canonical Host first, end-to-end headers, normalised framing, Connection: close", () => {
    const request = parse(
      "POST http://Sink.Test:8080/p?q HTTP/1.1\r\nHost: sink.test:8080\r\nProxy-Authorization: x\r\nConnection: x-drop\r\n" +
        "X-Drop: 1\r\nContent-Length: 3, 3\r\nAccept: */*\r\n\r\n",
    );
    if (!("kind" in request) || request.kind !== "http") throw new Error("expected an http request");
    expect(upstreamRequestHead(request).toString("latin1")).toBe(
      "POST /p?q HTTP/1.1\r\nHost: sink.test:8080\r\nAccept: */*\r\nContent-Length: 3\r\nConnection: close\r\n\r\n",
    );
  });
});
