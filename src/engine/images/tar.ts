import { createReadStream, statSync } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";

export type TarEntry =
  | { name: string; content: string | Uint8Array; mode?: number }
  | { name: string; path: string; mode?: number };

/** A fixed time for every entry: the same inputs give the same archive (and build cache hits). */
const MTIME = new Date(Date.UTC(2020, 0, 1));

/**
 * A Docker build context as a tar stream (tar-stream writes the archive). Entries from disk
 * are streamed, so a large root filesystem archive is never held in memory; parent
 * directories are added before their first entry.
 */
export function tarStream(entries: readonly TarEntry[]): Readable {
  const archive = pack();
  const write = async () => {
    const dirs = new Set<string>();
    for (const entry of entries) {
      const parts = entry.name.split("/").slice(0, -1);
      for (let i = 1; i <= parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        if (dirs.has(dir)) continue;
        dirs.add(dir);
        await new Promise<void>((resolve, reject) =>
          archive.entry({ name: dir, type: "directory", mode: 0o755, mtime: MTIME }, (error) => (error ? reject(error) : resolve())),
        );
      }
      const header = { name: entry.name, mode: entry.mode ?? 0o644, mtime: MTIME };
      if ("path" in entry) {
        const size = statSync(entry.path).size;
        const sink = archive.entry({ ...header, size });
        // tar-stream fails the entry when fewer or more bytes than `size` arrive (a file that changed).
        await pipeline(createReadStream(entry.path), sink);
      } else {
        const data = Buffer.from(entry.content);
        await new Promise<void>((resolve, reject) => archive.entry({ ...header, size: data.length }, data, (error) => (error ? reject(error) : resolve())));
      }
    }
    archive.finalize();
  };
  write().catch((error) => archive.destroy(error as Error));
  return archive as unknown as Readable;
}
