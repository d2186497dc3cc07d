import { readdir, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";

const DAY_MS = 24 * 60 * 60 * 1000;
const AUDIT_FILE = /^audit-(\d{4}-\d{2}-\d{2})\.jsonl$/;

export interface RetentionOptions {
  dir: string;
  retentionDays: number;
  now: Date;
  /** The file being written: never deleted, whatever its name says. */
  keep?: string | null;
}

/**
 * Deletes the daily audit files whose every record is older than `retentionDays` (by the
 * UTC date in the file name). Touches nothing but `audit-YYYY-MM-DD.jsonl` files.
 * Returns the names deleted; a missing directory (or a file in its place) deletes nothing.
 */
export async function pruneAuditFiles(options: RetentionOptions): Promise<string[]> {
  const dir = resolve(options.dir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    // No directory, nothing to prune (a write reports why it cannot create one).
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
  const today = Date.parse(options.now.toISOString().slice(0, 10));
  // The file of day D is last written at D+1 00:00; when D < today - retentionDays, even that
  // last record is at least retentionDays old.
  const cutoff = today - options.retentionDays * DAY_MS;
  const keep = options.keep ? resolve(options.keep) : null;
  const deleted: string[] = [];
  for (const name of names.sort()) {
    const day = AUDIT_FILE.exec(name)?.[1];
    if (!day) continue;
    const date = Date.parse(day);
    if (Number.isNaN(date) || date >= cutoff || join(dir, name) === keep) continue;
    await unlink(join(dir, name));
    deleted.push(name);
  }
  return deleted;
}
