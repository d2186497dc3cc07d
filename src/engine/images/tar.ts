import { createReadStream, statSync } from "node:fs";
import { Readable } from "node:stream";

export type TarEntry =
  | { name: string; content: string | Uint8Array; mode?: number }
  | { name: string; path: string; mode?: number };

function header(name: string, size: number, mode: number, type: "0" | "5"): Buffer {
  const block = Buffer.alloc(512);
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  block.write(name, 0, 100, "utf8");
  block.write(`${mode.toString(8).padStart(7, "0")}\0`, 100);
  block.write("0000000\0", 108); // uid
  block.write("0000000\0", 116); // gid
  block.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  block.write(`${Math.floor(Date.UTC(2020, 0, 1) / 1000).toString(8).padStart(11, "0")}\0`, 136);
  block.write("        ", 148); // checksum placeholder
  block.write(type, 156);
  block.write("ustar\0", 257);
  block.write("00", 263);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return block;
}

function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/**
 * A Docker build context as a tar stream (ustar; short names only). Entries from disk are
 * streamed, so a large root filesystem archive is never held in memory.
 */
export function tarStream(entries: readonly TarEntry[]): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    const dirs = new Set<string>();
    for (const entry of entries) {
      const parts = entry.name.split("/").slice(0, -1);
      for (let i = 1; i <= parts.length; i++) {
        const dir = `${parts.slice(0, i).join("/")}/`;
        if (!dirs.has(dir)) {
          dirs.add(dir);
          yield header(dir, 0, 0o755, "5");
        }
      }
      if ("path" in entry) {
        const size = statSync(entry.path).size;
        yield header(entry.name, size, entry.mode ?? 0o644, "0");
        let sent = 0;
        for await (const chunk of createReadStream(entry.path)) {
          sent += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
        if (sent !== size) throw new Error(`${entry.path} changed while being archived`);
        yield padding(size);
      } else {
        const data = typeof entry.content === "string" ? Buffer.from(entry.content) : Buffer.from(entry.content);
        yield header(entry.name, data.length, entry.mode ?? 0o644, "0");
        yield data;
        yield padding(data.length);
      }
    }
    yield Buffer.alloc(1024);
  }
  return Readable.from(generate());
}
