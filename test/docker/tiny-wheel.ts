// A minimal pure-python wheel and a PEP 503 "simple" index page for it, built in memory so
// the pip install test needs no package from anywhere but this file. Not a test file itself.
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";

export interface TinyWheel {
  fileName: string;
  bytes: Buffer;
  sha256: string;
}

/** Zip archive of the entries, stored (no compression): all a wheel needs. */
function storedZip(entries: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, "utf8");
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x21, 12); // date: 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(20, 6); // version needed
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(0, 30); // extra and comment lengths
    central.writeUInt32LE(0, 34); // disk, internal attributes
    central.writeUInt32LE(0, 38); // external attributes
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const recordHash = (data: Buffer) => `sha256=${createHash("sha256").update(data).digest("base64url")}`;

/** `tinypkg` 1.0: `import tinypkg; tinypkg.VALUE == value`. */
export function buildTinyWheel(value: string): TinyWheel {
  const info = "tinypkg-1.0.dist-info";
  const files = [
    { name: "tinypkg/__init__.py", data: Buffer.from(`VALUE = ${JSON.stringify(value)}\n`) },
    { name: `${info}/METADATA`, data: Buffer.from("Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n") },
    { name: `${info}/WHEEL`, data: Buffer.from("Wheel-Version: 1.0\nGenerator: isol8-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n") },
  ];
  const record = [...files.map((f) => `${f.name},${recordHash(f.data)},${f.data.length}`), `${info}/RECORD,,`, ""].join("\n");
  const bytes = storedZip([...files, { name: `${info}/RECORD`, data: Buffer.from(record) }]);
  return { fileName: "tinypkg-1.0-py3-none-any.whl", bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** The PEP 503 project page listing the wheel (served at /simple/tinypkg/). */
export function simpleIndexPage(wheel: TinyWheel, filesPath: string): string {
  return `<!DOCTYPE html>\n<html><body>\n<a href="${filesPath}/${wheel.fileName}#sha256=${wheel.sha256}">${wheel.fileName}</a>\n</body></html>\n`;
}
