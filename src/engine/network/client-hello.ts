/**
 * Reads the server name (SNI) out of the first bytes a TLS client sends: TLS records of
 * type 22 (handshake) carrying a handshake message of type 1 (ClientHello), whose
 * `server_name` extension (type 0) holds one `host_name` entry (name type 0). RFC 8446 §4.1.2
 * and RFC 6066 §3. The message may be split across records, and the records across reads:
 * the caller passes everything received so far and gets `incomplete` until the whole
 * message is there. Pure: it reads bytes and says what they are; what to allow is the
 * caller's decision.
 */

/** Largest ClientHello message accepted, in bytes (real ones are 0.5–2 KiB, post-quantum key shares included). */
export const MAX_CLIENT_HELLO_BYTES = 16 * 1024;
/** Most records a ClientHello may be split into. */
export const MAX_HELLO_RECORDS = 32;

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const MAX_RECORD_PAYLOAD = 16_384; // 2^14, RFC 8446 §5.1
const EXT_SERVER_NAME = 0;
/**
 * Extensions that carry the real server name encrypted: encrypted_client_hello (RFC 9849,
 * 0xfe0d, also the code point of its later drafts), the earlier ECH drafts' code points
 * (0xfe08–0xfe0c: a server still speaking one would act on the hidden name) and ESNI's
 * encrypted_server_name (0xffce, drafts 01–06).
 */
const HIDDEN_NAME_EXTENSIONS: ReadonlySet<number> = new Set([0xfe08, 0xfe09, 0xfe0a, 0xfe0b, 0xfe0c, 0xfe0d, 0xffce]);
const NAME_TYPE_HOST = 0;

export type ClientHelloReading =
  | { state: "incomplete" }
  | {
      state: "complete";
      /** The `host_name` as sent (ASCII), or null when the hello names no server. */
      serverName: string | null;
      /** An encrypted ClientHello (or ESNI) is offered: the real server name is hidden inside it. */
      encryptedClientHello: boolean;
    }
  | { state: "invalid"; reason: string };

class Malformed extends Error {}

/**
 * Reads a ClientHello from the start of `bytes` (everything the client has sent so far).
 * Record headers are walked first and the message is joined only once it is whole, so a
 * client sending its hello a byte at a time costs a header walk per read, not a re-parse.
 */
export function readClientHello(bytes: Uint8Array): ClientHelloReading {
  const { parts, total, stop } = handshakeRecords(bytes);
  if (total >= 4) {
    const header = concat(parts, 4);
    if (header[0] !== HANDSHAKE_CLIENT_HELLO) return { state: "invalid", reason: `handshake message of type ${header[0]}, not a ClientHello` };
    const length = (header[1]! << 16) | (header[2]! << 8) | header[3]!;
    if (length > MAX_CLIENT_HELLO_BYTES) return { state: "invalid", reason: `ClientHello longer than ${MAX_CLIENT_HELLO_BYTES} bytes` };
    if (total >= 4 + length) {
      try {
        return { state: "complete", ...readHelloBody(concat(parts, total).subarray(4, 4 + length)) };
      } catch (error) {
        if (error instanceof Malformed) return { state: "invalid", reason: `malformed ClientHello: ${error.message}` };
        throw error;
      }
    }
  }
  // The message is not whole: whatever ended the walk decides.
  return stop === "incomplete" ? { state: "incomplete" } : { state: "invalid", reason: stop };
}

/** Payloads of the leading handshake records, and why the walk stopped ("incomplete" or a reason). */
function handshakeRecords(bytes: Uint8Array): { parts: Uint8Array[]; total: number; stop: string } {
  const parts: Uint8Array[] = [];
  let total = 0;
  let offset = 0;
  for (;;) {
    if (parts.length === MAX_HELLO_RECORDS) return { parts, total, stop: `ClientHello split into more than ${MAX_HELLO_RECORDS} records` };
    if (bytes.length < offset + 1) return { parts, total, stop: "incomplete" };
    if (bytes[offset] !== RECORD_HANDSHAKE) {
      return { parts, total, stop: parts.length === 0 ? "not a TLS handshake record" : `a record of type ${bytes[offset]} inside the ClientHello` };
    }
    if (bytes.length < offset + 5) return { parts, total, stop: "incomplete" };
    const major = bytes[offset + 1]!;
    const minor = bytes[offset + 2]!;
    if (major !== 3 || minor > 4) return { parts, total, stop: `unknown record version ${major}.${minor}` };
    const length = (bytes[offset + 3]! << 8) | bytes[offset + 4]!;
    if (length === 0) return { parts, total, stop: "an empty handshake record" };
    if (length > MAX_RECORD_PAYLOAD) return { parts, total, stop: `a record longer than ${MAX_RECORD_PAYLOAD} bytes` };
    if (bytes.length < offset + 5 + length) return { parts, total, stop: "incomplete" };
    parts.push(bytes.subarray(offset + 5, offset + 5 + length));
    total += length;
    offset += 5 + length;
  }
}

function readHelloBody(body: Uint8Array): { serverName: string | null; encryptedClientHello: boolean } {
  const r = new Reader(body);
  r.skip(2 + 32, "version and random");
  r.skip(r.u8("session id length"), "session id");
  const suites = r.u16("cipher suites length");
  if (suites === 0 || suites % 2 !== 0) throw new Malformed("cipher suites");
  r.skip(suites, "cipher suites");
  const compression = r.u8("compression methods length");
  if (compression === 0) throw new Malformed("compression methods");
  r.skip(compression, "compression methods");
  if (r.done()) return { serverName: null, encryptedClientHello: false }; // no extensions at all
  const extensions = new Reader(r.take(r.u16("extensions length"), "extensions"));
  if (!r.done()) throw new Malformed("bytes after the extensions");
  const seen = new Set<number>();
  let serverName: string | null = null;
  while (!extensions.done()) {
    const type = extensions.u16("extension type");
    const data = extensions.take(extensions.u16("extension length"), "extension");
    if (seen.has(type)) throw new Malformed(`extension ${type} appears twice`);
    seen.add(type);
    if (type === EXT_SERVER_NAME) serverName = readServerName(data);
  }
  return { serverName, encryptedClientHello: [...seen].some((type) => HIDDEN_NAME_EXTENSIONS.has(type)) };
}

/** The one `host_name` of a server_name extension. */
function readServerName(data: Uint8Array): string {
  const ext = new Reader(data);
  const list = new Reader(ext.take(ext.u16("server name list length"), "server name list"));
  if (!ext.done()) throw new Malformed("bytes after the server name list");
  let name: string | null = null;
  while (!list.done()) {
    const type = list.u8("server name type");
    const entry = list.take(list.u16("server name length"), "server name");
    if (type !== NAME_TYPE_HOST) continue;
    if (name !== null) throw new Malformed("more than one host name"); // servers differ on which one they would use
    if (entry.length === 0) throw new Malformed("an empty host name");
    if (!entry.every((b) => b > 0x20 && b < 0x7f)) throw new Malformed("a host name that is not printable ASCII");
    name = Buffer.from(entry).toString("latin1");
  }
  if (name === null) throw new Malformed("a server_name extension without a host name");
  return name;
}

/** The first `length` bytes of the parts joined (all of them when `length` is their total). */
function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts[0]!.length >= length) return parts[0]!.subarray(0, length);
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    if (at === length) break;
    const take = part.subarray(0, length - at);
    out.set(take, at);
    at += take.length;
  }
  return out;
}

/** Big-endian reads that throw Malformed instead of running past the end. */
class Reader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  done(): boolean {
    return this.at === this.bytes.length;
  }

  u8(what: string): number {
    return this.take(1, what)[0]!;
  }

  u16(what: string): number {
    const b = this.take(2, what);
    return (b[0]! << 8) | b[1]!;
  }

  take(length: number, what: string): Uint8Array {
    if (this.at + length > this.bytes.length) throw new Malformed(`${what} runs past its end`);
    const out = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  skip(length: number, what: string): void {
    this.take(length, what);
  }
}
