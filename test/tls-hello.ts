// Raw TLS ClientHello bytes for tests (not a test file): a TLS 1.3-shaped hello with the
// server_name, supported_versions, supported_groups and signature_algorithms extensions,
// wrapped in handshake records. Nothing here opens a connection.

export interface HelloOptions {
  /** host_name entries of the server_name extension; [] leaves the extension out. Default ["sink.test"]. */
  serverNames?: string[];
  /** Extensions added after the standard ones, as [type, data]. */
  extraExtensions?: [number, Uint8Array][];
  /** A hello with no extensions block at all (TLS 1.2-era clients). */
  noExtensions?: boolean;
}

const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const vec16 = (data: Uint8Array) => Buffer.concat([u16(data.length), data]);
const extension = (type: number, data: Uint8Array) => Buffer.concat([u16(type), vec16(data)]);

/** The server_name extension's data for the given host_name entries. */
export function serverNameData(names: readonly string[]): Buffer {
  const entries = names.map((name) => Buffer.concat([Buffer.from([0]), vec16(Buffer.from(name, "latin1"))]));
  return vec16(Buffer.concat(entries));
}

/** A ClientHello handshake message (type 1, 24-bit length, body). */
export function clientHelloMessage(options: HelloOptions = {}): Buffer {
  const names = options.serverNames ?? ["sink.test"];
  const extensions: Buffer[] = [];
  if (names.length > 0) extensions.push(extension(0, serverNameData(names)));
  extensions.push(
    extension(0x002b, Buffer.from([2, 0x03, 0x04])), // supported_versions: TLS 1.3
    extension(0x000a, vec16(Buffer.concat([u16(0x001d), u16(0x0017)]))), // supported_groups
    extension(0x000d, vec16(Buffer.concat([u16(0x0804), u16(0x0403)]))), // signature_algorithms
  );
  for (const [type, data] of options.extraExtensions ?? []) extensions.push(extension(type, data));
  const body = Buffer.concat([
    u16(0x0303), // legacy_version
    Buffer.alloc(32, 7), // random
    Buffer.from([32]),
    Buffer.alloc(32, 9), // legacy_session_id
    vec16(Buffer.concat([u16(0x1301), u16(0x1302), u16(0x1303)])), // cipher_suites
    Buffer.from([1, 0]), // legacy_compression_methods: null
    options.noExtensions ? Buffer.alloc(0) : vec16(Buffer.concat(extensions)),
  ]);
  return Buffer.concat([Buffer.from([1]), u24(body.length), body]);
}

/** Wraps a handshake message in TLS records of at most `fragment` payload bytes each. */
export function tlsRecords(message: Uint8Array, fragment = 16_384, type = 22): Buffer {
  const records: Buffer[] = [];
  for (let at = 0; at < message.length; at += fragment) {
    const payload = message.subarray(at, at + fragment);
    records.push(Buffer.concat([Buffer.from([type, 3, 1]), u16(payload.length), payload]));
  }
  return Buffer.concat(records);
}

/** A ClientHello in one record, naming `serverName` (null: no server_name extension). */
export function clientHello(serverName: string | null, options: Omit<HelloOptions, "serverNames"> = {}): Buffer {
  return tlsRecords(clientHelloMessage({ ...options, serverNames: serverName === null ? [] : [serverName] }));
}
