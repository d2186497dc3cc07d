// Asking the runtime for a garbage collection while large data passes through. Moving a big
// file (read from a container, then sent to a client as base64) leaves a trail of chunks
// that are garbage as soon as they are copied on; the runtime's own heuristics let about
// the file's size of them pile up before collecting (measured on Bun with a 60 MiB file),
// which doubles the peak memory of a server returning that file. Collecting every few MiB
// moved keeps the peak near the file's own size.

/** Bytes moved between two collections. */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

/** Collects garbage now, synchronously (on Bun; a no-op on other runtimes). */
export function collectGarbage(): void {
  (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc(true);
}

/** Counts bytes moved and collects garbage after every COLLECT_EVERY_BYTES. */
export function createGarbageMeter(collect: () => void = collectGarbage, every = COLLECT_EVERY_BYTES): (bytes: number) => void {
  let moved = 0;
  return (bytes) => {
    moved += bytes;
    if (moved < every) return;
    moved = 0;
    collect();
  };
}
