import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { HttpStatusError, ReleaseError } from "./errors";

/** The subset of `fetch` the downloads use (inject one in tests). */
export type FetchLike = (url: string, init: { signal: AbortSignal; redirect: "follow" }) => Promise<Response>;

/** Options shared by every download. */
export interface DownloadOptions {
  fetch?: FetchLike;
  /** Aborts the download (the launcher aborts on SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Abort when no data arrives for this long (default 60 s); a whole download has no deadline. */
  idleTimeoutMs?: number;
}

/** Options of a download into a file (binaries). */
export interface FileDownloadOptions extends DownloadOptions {
  /** Refuse bodies larger than this (default 512 MiB). */
  maxBytes?: number;
  /** Called as data arrives; `total` is the announced length, when there is one. */
  onProgress?: (received: number, total: number | undefined) => void;
}

const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/** A text file of a release (checksums, manifest), at most 1 MiB. */
export async function downloadText(url: string, options: DownloadOptions = {}): Promise<string> {
  const chunks: Uint8Array[] = [];
  await stream(url, { ...options, maxBytes: 1024 * 1024 }, (chunk) => void chunks.push(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

/** Downloads `url` into a new file at `path` (created with mode 0600) and returns its SHA-256 in hex. */
export async function downloadToFile(url: string, path: string, options: FileDownloadOptions = {}): Promise<string> {
  const hash = createHash("sha256");
  const file = await open(path, "wx", 0o600);
  try {
    await stream(url, options, async (chunk) => {
      hash.update(chunk);
      await file.write(chunk);
    });
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}

async function stream(url: string, options: FileDownloadOptions, onChunk: (chunk: Uint8Array) => void | Promise<void>): Promise<void> {
  const idle = new AbortController();
  const idleMs = options.idleTimeoutMs ?? 60_000;
  let timer = setTimeout(() => idle.abort(), idleMs);
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  try {
    const response = await (options.fetch ?? fetch)(url, { signal, redirect: "follow" });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new HttpStatusError(url, response.status, response.statusText);
    }
    const length = Number(response.headers.get("content-length") ?? Number.NaN);
    const total = Number.isFinite(length) ? length : undefined;
    if (total !== undefined && total > maxBytes) {
      await response.body.cancel();
      throw new ReleaseError(`Cannot download "${url}": it is ${total} bytes, more than the ${maxBytes} allowed`);
    }
    let received = 0;
    for await (const chunk of response.body) {
      // Also checked here: a fetch (a test's, or a proxy's) may not end its body on abort.
      signal.throwIfAborted();
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), idleMs);
      received += chunk.byteLength;
      if (received > maxBytes) throw new ReleaseError(`Cannot download "${url}": it is more than the ${maxBytes} bytes allowed`);
      await onChunk(chunk);
      options.onProgress?.(received, total);
    }
  } catch (error) {
    if (options.signal?.aborted || error instanceof ReleaseError) throw error;
    if (idle.signal.aborted) throw new ReleaseError(`Cannot download "${url}": no data for ${idleMs / 1000} s`);
    throw new ReleaseError(`Cannot download "${url}": ${failureReason(error)}`, "check the network, or set ISOL8_RELEASE_URL to a reachable mirror");
  } finally {
    clearTimeout(timer);
  }
}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, a DNS failure) is in `cause`. */
function failureReason(error: unknown): string {
  const err = error as { message?: string; cause?: { message?: string; code?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message}: ${cause}` : String(err.message ?? error);
}
