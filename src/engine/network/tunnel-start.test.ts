// Verdicts on a tunnel's first bytes: raw ClientHellos (test/tls-hello.ts) and HTTP heads,
// whole and cut short. Pure: nothing connects anywhere.
import { describe, expect, test } from "bun:test";
import { clientHello, clientHelloMessage, tlsRecords } from "../../../test/tls-hello";
import { inspectTunnelStart, type TunnelStart, type TunnelTarget } from "./tunnel-start";

const SINK: TunnelTarget = { host: "sink.test", port: 443 };
const LITERAL: TunnelTarget = { host: "127.0.0.1", port: 443 };
const MAX_HEAD = 1024;
const judge = (bytes: Buffer | string, target = SINK): TunnelStart =>
  inspectTunnelStart(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes, target, MAX_HEAD);
const verdict = (start: TunnelStart) => (start.kind === "refused" ? `refused: ${start.reason}${start.reply ? ` (${start.reply})` : ""}` : start.kind);

describe("TLS: the server name must be the tunnel's host", () => {
  test.each([
    ["sink.test", SINK, "tls"],
    ["SINK.Test", SINK, "tls"], // canonicalised like hosts
    ["sink.test.", SINK, "tls"],
    ["other.test", SINK, 'refused: TLS server name "other.test" does not match the tunnel\'s host "sink.test"'],
    ["x.sink.test", SINK, 'refused: TLS server name "x.sink.test" does not match the tunnel\'s host "sink.test"'],
    ["sink.test.evil.test", SINK, 'refused: TLS server name "sink.test.evil.test" does not match the tunnel\'s host "sink.test"'],
    ["127.0.0.1", LITERAL, "tls"],
    ["sink.test", LITERAL, 'refused: TLS server name "sink.test" does not match the tunnel\'s host "127.0.0.1"'],
    ["sink_test/evil", SINK, 'refused: TLS server name "sink_test/evil" is not a valid host name'],
    ["0x7f.1", LITERAL, "tls"], // an inet_aton spelling is the same address
  ] as const)("SNI %j in a tunnel to %o → %s", (serverName, target, expected) => {
    expect(verdict(judge(clientHello(serverName), target))).toBe(expected);
  });

  test("no server name: only for an IP-literal destination", () => {
    expect(verdict(judge(clientHello(null), LITERAL))).toBe("tls");
    expect(verdict(judge(clientHello(null, { noExtensions: true }), LITERAL))).toBe("tls");
    expect(verdict(judge(clientHello(null), SINK))).toBe('refused: TLS ClientHello without a server name (SNI) in a tunnel to "sink.test"');
    expect(verdict(judge(clientHello(null), { host: "::1", port: 443 }))).toBe("tls");
  });

  test("an encrypted ClientHello is refused even when its outer name matches", () => {
    const ech = clientHello("sink.test", { extraExtensions: [[0xfe0d, Buffer.from([0, 1, 2, 3])]] });
    expect(verdict(judge(ech))).toBe("refused: an encrypted TLS ClientHello (ECH) hides the server name");
  });

  test("pending until the whole hello is there, across records and reads; bytes after it do not matter", () => {
    const records = tlsRecords(clientHelloMessage({ serverNames: ["sink.test"] }), 40);
    for (let cut = 1; cut < records.length; cut++) expect(judge(records.subarray(0, cut)).kind).toBe("pending");
    expect(verdict(judge(records))).toBe("tls");
    expect(verdict(judge(Buffer.concat([records, Buffer.from("more")])))).toBe("tls");
    const mismatch = tlsRecords(clientHelloMessage({ serverNames: ["other.test"] }), 40);
    expect(verdict(judge(mismatch))).toStartWith('refused: TLS server name "other.test"');
  });

  test("malformed or oversized hellos are refused", () => {
    expect(verdict(judge(Buffer.from([22, 3, 1, 0, 0])))).toBe("refused: invalid TLS ClientHello: an empty handshake record");
    expect(verdict(judge(Buffer.from([22, 3, 1, 0, 4, 1, 1, 0, 0])))).toBe("refused: invalid TLS ClientHello: ClientHello longer than 16384 bytes");
    const twoNames = tlsRecords(clientHelloMessage({ serverNames: ["sink.test", "other.test"] }));
    expect(verdict(judge(twoNames))).toBe("refused: invalid TLS ClientHello: malformed ClientHello: more than one host name");
  });
});

describe("plain HTTP in a tunnel: the Host header must be the tunnel's", () => {
  const WEB: TunnelTarget = { host: "sink.test", port: 8080 };
  test("a matching request is forwarded as judged, with what follows its head", () => {
    const start = judge("POST /a?b=c HTTP/1.1\r\nHost: SINK.test:8080\r\nContent-Length: 3\r\n\r\nabcGET /second", WEB);
    expect(start.kind).toBe("http");
    if (start.kind !== "http") return;
    expect(start.request).toMatchObject({ kind: "http", method: "POST", host: "sink.test", port: 8080, path: "/a?b=c", body: { type: "length", length: 3 } });
    expect(start.rest.toString()).toBe("abcGET /second");
  });

  test.each([
    ["GET / HTTP/1.1\r\nHost: sink.test\r\n\r\n", { host: "sink.test", port: 80 }, "http"],
    ["GET / HTTP/1.0\r\n\r\n", { host: "sink.test", port: 8080 }, "http"],
    ["GET / HTTP/1.1\r\nHost: other.test:8080\r\n\r\n", { host: "sink.test", port: 8080 }, 'refused: Host header "other.test:8080" does not match the tunnel\'s host "sink.test:8080" (403)'],
    ["GET / HTTP/1.1\r\nHost: sink.test\r\n\r\n", { host: "sink.test", port: 8080 }, 'refused: Host header "sink.test" does not match the tunnel\'s host "sink.test:8080" (403)'],
    ["GET / HTTP/1.1\r\nHost: sink.test:8080\r\nHost: other.test:8080\r\n\r\n", { host: "sink.test", port: 8080 }, "refused: more than one Host header (400)"],
    ["GET / HTTP/1.1\r\n\r\n", { host: "sink.test", port: 8080 }, "refused: missing Host header (400)"],
    ["GET http://other.test/ HTTP/1.1\r\nHost: sink.test:8080\r\n\r\n", { host: "sink.test", port: 8080 }, "refused: a request inside a tunnel must use origin-form (/path) (400)"],
    ["CONNECT other.test:443 HTTP/1.1\r\n\r\n", { host: "sink.test", port: 8080 }, "refused: CONNECT inside a tunnel (400)"],
    ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", { host: "sink.test", port: 8080 }, "refused: malformed request line in the tunnel (400)"],
    ["GET / HTTP/1.1\r\nHost: sink.test:8080\r\nTransfer-Encoding: gzip\r\n\r\n", { host: "sink.test", port: 8080 }, "refused: unsupported Transfer-Encoding (400)"],
    ["GET / HTTP/1.1\r\n bad fold\r\n\r\n", { host: "sink.test", port: 8080 }, "refused: folded header lines are not supported (400)"],
  ])("%j in a tunnel to %o → %s", (bytes, target, expected) => {
    expect(verdict(judge(bytes, target))).toBe(expected);
  });

  test("pending until the head ends; a head over the limit is refused", () => {
    expect(judge("GET / HTTP/1.1\r\nHost: sink.test:8080\r\n", WEB).kind).toBe("pending");
    expect(verdict(judge(`GET / HTTP/1.1\r\nX: ${"a".repeat(MAX_HEAD)}`, WEB))).toBe("refused: request head too large (431)");
  });
});

describe("anything else is refused", () => {
  test.each([
    ["\u0000\u0001binary", "refused: the tunnel carries neither TLS nor HTTP/1.x"],
    ["get / HTTP/1.1\r\n\r\n", "refused: the tunnel carries neither TLS nor HTTP/1.x"],
    ["\u0080\u002e\u0001\u0003\u0001", "refused: the tunnel carries neither TLS nor HTTP/1.x"], // SSLv2-style hello
    ["ping bytes", "refused: the tunnel carries neither TLS nor HTTP/1.x"],
  ])("%j → %s", (bytes, expected) => {
    expect(verdict(judge(bytes))).toBe(expected);
  });

  test("a protocol that only looks like HTTP at first (an SSH banner) never completes a head and runs into the limit", () => {
    expect(judge("SSH-2.0-OpenSSH_9.6\r\n").kind).toBe("pending");
    expect(verdict(judge(`SSH-2.0-OpenSSH_9.6\r\n${"x".repeat(MAX_HEAD)}`))).toBe("refused: request head too large (431)");
  });

  test("nothing yet: pending", () => {
    expect(judge(Buffer.alloc(0)).kind).toBe("pending");
  });
});
