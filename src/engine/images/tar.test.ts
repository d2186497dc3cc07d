import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extract } from "tar-stream";
import { tarStream } from "./tar";

/** The whole stream as one buffer. */
async function bytesOf(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Reads an archive back: name → { type, mode, content }. */
async function read(stream: AsyncIterable<Buffer>): Promise<Record<string, { type: string; mode: number; content: string }>> {
  const data = await bytesOf(stream);
  const out: Record<string, { type: string; mode: number; content: string }> = {};
  const unpack = extract();
  const reading = (async () => {
    for await (const entry of unpack) {
      const content = await bytesOf(entry as unknown as AsyncIterable<Buffer>);
      out[entry.header.name] = { type: String(entry.header.type), mode: entry.header.mode ?? 0, content: content.toString() };
    }
  })();
  unpack.end(data);
  await reading;
  return out;
}

describe("tarStream", () => {
  test("text, bytes and files from disk, with their parent directories and modes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "isol8-tar-"));
    const big = join(dir, "big.bin");
    writeFileSync(big, "z".repeat(300_000));
    const archive = await read(
      tarStream([
        { name: "Dockerfile", content: "FROM scratch\n" },
        { name: "ca/a.crt", content: new Uint8Array([104, 105]) },
        { name: "ca/.keep", content: "" },
        { name: "bin/tool", content: "#!/bin/sh\n", mode: 0o755 },
        { name: "rootfs.tar", path: big },
      ]),
    );
    expect(Object.keys(archive).sort()).toEqual(["Dockerfile", "bin", "bin/tool", "ca", "ca/.keep", "ca/a.crt", "rootfs.tar"]);
    expect(archive.Dockerfile).toEqual({ type: "file", mode: 0o644, content: "FROM scratch\n" });
    expect(archive["ca/a.crt"]?.content).toBe("hi");
    expect(archive.ca?.type).toBe("directory");
    expect(archive["bin/tool"]?.mode).toBe(0o755);
    expect(archive["rootfs.tar"]?.content.length).toBe(300_000);
  });

  test("a missing file fails the stream", async () => {
    const stream = tarStream([{ name: "x", path: "/nonexistent/isol8-test-file" }]);
    await expect(bytesOf(stream as AsyncIterable<Buffer>)).rejects.toThrow("ENOENT");
  });
});
