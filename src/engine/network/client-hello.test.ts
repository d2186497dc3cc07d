// Tables of raw bytes: hand-built hellos (test/tls-hello.ts), cut at every point, split into
// records, broken in every field; and one hello from a real TLS client, captured on loopback.
import { describe, expect, test } from "bun:test";
import { createServer, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { clientHello, clientHelloMessage, serverNameData, tlsRecords } from "../../../test/tls-hello";
import { MAX_CLIENT_HELLO_BYTES, MAX_HELLO_RECORDS, readClientHello } from "./client-hello";

const named = (serverName: string | null, encryptedClientHello = false) => ({ state: "complete" as const, serverName, encryptedClientHello });
const invalid = (bytes: Uint8Array) => {
  const reading = readClientHello(bytes);
  return reading.state === "invalid" ? reading.reason : `not invalid: ${reading.state}`;
};

describe("readClientHello: complete hellos", () => {
  test("the server name of a one-record hello, bytes after it ignored", () => {
    expect(readClientHello(clientHello("sink.test"))).toEqual(named("sink.test"));
    const after = Buffer.concat([clientHello("sink.test"), Buffer.from([23, 3, 3, 0, 1, 0])]);
    expect(readClientHello(after)).toEqual(named("sink.test"));
  });

  test("names are returned as sent: canonicalising them (case, trailing dot) is the caller's job", () => {
    expect(readClientHello(clientHello("SINK.Test."))).toEqual(named("SINK.Test."));
  });

  test("no server_name extension, or no extensions at all: no name", () => {
    expect(readClientHello(clientHello(null))).toEqual(named(null));
    expect(readClientHello(clientHello(null, { noExtensions: true }))).toEqual(named(null));
  });

  test("other name types are skipped; an encrypted ClientHello is reported", () => {
    const entries = Buffer.concat([Buffer.from([5, 0, 3]), Buffer.from("abc"), serverNameData(["sink.test"]).subarray(2)]); // type 5 "abc", then type 0
    const otherType = Buffer.concat([Buffer.from([entries.length >> 8, entries.length & 0xff]), entries]);
    const withOther = tlsRecords(clientHelloMessage({ serverNames: [], extraExtensions: [[0, otherType]] }));
    expect(readClientHello(withOther)).toEqual(named("sink.test"));
    const ech = clientHello("public.test", { extraExtensions: [[0xfe0d, Buffer.from([0, 1, 2])]] });
    expect(readClientHello(ech)).toEqual(named("public.test", true));
  });

  test.each([
    ["encrypted_client_hello (RFC 9849)", 0xfe0d, true],
    ["ECH draft 08", 0xfe08, true],
    ["ECH draft 09", 0xfe09, true],
    ["ECH draft 10", 0xfe0a, true],
    ["ECH draft 11", 0xfe0b, true],
    ["ECH draft 12", 0xfe0c, true],
    ["ESNI encrypted_server_name", 0xffce, true],
    ["ech_outer_extensions (inner hellos only)", 0xfd00, false],
    ["a GREASE value", 0x0a0a, false],
    ["renegotiation_info", 0xff01, false],
  ] as const)("an extension %s (%d) hides the server name: %p", (_name, type, hidden) => {
    expect(readClientHello(clientHello("public.test", { extraExtensions: [[type, Buffer.from([0, 1, 2])]] }))).toEqual(named("public.test", hidden));
  });

  test("a hello split into records of every size, and cut at every byte, reads the same once whole", () => {
    const message = clientHelloMessage({ serverNames: ["split.sink.test"] });
    for (const fragment of [1, 2, 3, 4, 5, 7, 64, message.length - 1]) {
      const records = tlsRecords(message, fragment);
      if (Math.ceil(message.length / fragment) > MAX_HELLO_RECORDS) {
        expect(invalid(records)).toBe(`ClientHello split into more than ${MAX_HELLO_RECORDS} records`);
        continue;
      }
      for (let cut = 0; cut < records.length; cut++) expect(readClientHello(records.subarray(0, cut))).toEqual({ state: "incomplete" });
      expect(readClientHello(records)).toEqual(named("split.sink.test"));
    }
  });
});

describe("readClientHello: what is not a ClientHello", () => {
  const good = clientHello("sink.test");
  const withByte = (at: number, value: number) => {
    const copy = Buffer.from(good);
    copy[at] = value;
    return copy;
  };
  const message = clientHelloMessage();

  test.each([
    ["plain HTTP", Buffer.from("GET / HTTP/1.1\r\n\r\n"), "not a TLS handshake record"],
    ["SSLv2-style hello", Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01]), "not a TLS handshake record"],
    ["an alert record", Buffer.from([21, 3, 3, 0, 2, 2, 40]), "not a TLS handshake record"],
    ["record version 2.1", withByte(1, 2), "unknown record version 2.1"],
    ["record version 3.9", withByte(2, 9), "unknown record version 3.9"],
    ["an empty record", Buffer.from([22, 3, 1, 0, 0]), "an empty handshake record"],
    ["a record over 2^14 bytes", Buffer.from([22, 3, 1, 0x40, 0x01]), "a record longer than 16384 bytes"],
    ["a ServerHello", withByte(5, 2), "handshake message of type 2, not a ClientHello"],
    ["an application-data record mid-hello", Buffer.concat([tlsRecords(message.subarray(0, 10)), tlsRecords(message.subarray(10), 16_384, 23)]), "a record of type 23 inside the ClientHello"],
  ])("%s: %s", (_label, bytes, reason) => {
    expect(invalid(bytes)).toBe(reason);
  });

  test("a ClientHello over the size limit is refused from its header, before the rest arrives", () => {
    const header = Buffer.from([1, 0, (MAX_CLIENT_HELLO_BYTES + 1) >> 8, (MAX_CLIENT_HELLO_BYTES + 1) & 0xff]);
    expect(invalid(tlsRecords(header))).toBe(`ClientHello longer than ${MAX_CLIENT_HELLO_BYTES} bytes`);
    const padded = clientHelloMessage({ extraExtensions: [[21, Buffer.alloc(MAX_CLIENT_HELLO_BYTES)]] });
    expect(invalid(tlsRecords(padded))).toBe(`ClientHello longer than ${MAX_CLIENT_HELLO_BYTES} bytes`);
    const largest = clientHelloMessage({ extraExtensions: [[21, Buffer.alloc(MAX_CLIENT_HELLO_BYTES - 300)]] });
    expect(readClientHello(tlsRecords(largest))).toEqual(named("sink.test")); // still works just under the limit
  });

  const hello = (serverNames: string[], extra: [number, Uint8Array][] = []) => tlsRecords(clientHelloMessage({ serverNames, extraExtensions: extra }));
  test.each([
    ["two host names", hello(["sink.test", "other.test"]), "malformed ClientHello: more than one host name"],
    ["an empty host name", hello([""]), "malformed ClientHello: an empty host name"],
    ["a host name with a space", hello(["sink test"]), "malformed ClientHello: a host name that is not printable ASCII"],
    ["a host name with NUL", hello(["sink.test\u0000.other.test"]), "malformed ClientHello: a host name that is not printable ASCII"],
    ["a host name in Latin-1", hello(["b\u00fccher.test"]), "malformed ClientHello: a host name that is not printable ASCII"],
    ["two server_name extensions", hello(["sink.test"], [[0, serverNameData(["other.test"])]]), "malformed ClientHello: extension 0 appears twice"],
    ["a server_name list with no host name", hello([], [[0, Buffer.from([0, 0])]]), "malformed ClientHello: a server_name extension without a host name"],
    ["a server_name list longer than its extension", hello([], [[0, Buffer.from([0, 9, 0, 0, 1])]]), "malformed ClientHello: server name list runs past its end"],
    ["bytes after the server name list", hello([], [[0, Buffer.concat([serverNameData(["sink.test"]), Buffer.from([0])])]]), "malformed ClientHello: bytes after the server name list"],
    ["a name longer than its entry", hello([], [[0, Buffer.from([0, 4, 0, 0, 9, 97])]]), "malformed ClientHello: server name runs past its end"],
  ])("%s: %s", (_label, bytes, reason) => {
    expect(invalid(bytes)).toBe(reason);
  });

  test("length fields that overrun the message are malformed, never read past", () => {
    const body = message.subarray(4);
    const rewrap = (mutate: (b: Buffer) => void) => {
      const copy = Buffer.from(body);
      mutate(copy);
      return tlsRecords(Buffer.concat([Buffer.from([1, 0, copy.length >> 8, copy.length & 0xff]), copy]));
    };
    expect(invalid(rewrap((b) => (b[34] = 200)))).toStartWith("malformed ClientHello: session id runs past its end");
    expect(invalid(rewrap((b) => b.writeUInt16BE(3, 67)))).toBe("malformed ClientHello: cipher suites");
    expect(invalid(rewrap((b) => b.writeUInt16BE(0xfff0, 67)))).toBe("malformed ClientHello: cipher suites runs past its end");
    expect(invalid(tlsRecords(Buffer.concat([Buffer.from([1, 0, 0, 20]), body.subarray(0, 20)])))).toStartWith("malformed ClientHello:");
  });
});

test("a hello from a real TLS client (node:tls, captured on loopback) names its servername", async () => {
  const captured = await new Promise<Buffer>((resolve) => {
    const server = createServer((socket: Socket) => {
      let bytes = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        bytes = Buffer.concat([bytes, chunk]);
        if (readClientHello(bytes).state === "incomplete") return;
        socket.destroy();
        server.close();
        resolve(bytes);
      });
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      tlsConnect({ host: "127.0.0.1", port, servername: "Real.Sink.Test" }).on("error", () => {});
    });
  });
  expect(readClientHello(captured)).toEqual(named("Real.Sink.Test"));
});
