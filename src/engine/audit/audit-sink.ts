import { constants } from "node:fs";
import { access, appendFile, mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Isol8Error } from "../../errors";

/** Where audit lines go. */
export interface AuditSink {
  /** Appends one line; returns the file written (null for a stream). Throws Isol8Error when it cannot. */
  write(line: string): Promise<string | null>;
  /** Throws Isol8Error when a write would certainly fail now (missing or read-only directory). */
  check(): Promise<void>;
  /** The file being written now, if any (retention never deletes it). */
  current(): string | null;
}

/** `audit-2026-11-26.jsonl`: one file per UTC day. */
export function auditFileName(date: Date): string {
  return `audit-${date.toISOString().slice(0, 10)}.jsonl`;
}

const HINT = "check audit.logDir (it must be a writable directory), or set audit.enabled to false";

function sinkError(action: string, path: string, error: unknown): Isol8Error {
  const code = (error as NodeJS.ErrnoException).code;
  const state =
    code === "EACCES" || code === "EPERM"
      ? "permission denied"
      : code === "ENOSPC"
        ? "no space left on the device"
        : code === "ENOTDIR" || code === "EEXIST"
          ? "a file is in the way of the directory"
          : code === "EROFS"
            ? "read-only file system"
            : (error as Error).message;
  return new Isol8Error(`Cannot ${action} "${path}": ${state}${code ? ` (${code})` : ""}`, HINT);
}

/**
 * JSON Lines files under `dir`, one per UTC day; the directory is created when missing.
 * Writes are chained so that concurrent executions never interleave within a line.
 */
export function createFileSink(options: { dir: string; now?: () => Date }): AuditSink {
  const dir = resolve(options.dir);
  const now = options.now ?? (() => new Date());
  let tail: Promise<unknown> = Promise.resolve();
  let current: string | null = null;

  const prepareDir = async () => {
    try {
      // Records may hold code and output: not world-readable.
      await mkdir(dir, { recursive: true, mode: 0o750 });
    } catch (error) {
      throw sinkError("create the audit log directory", dir, error);
    }
  };

  return {
    write(line) {
      const path = join(dir, auditFileName(now()));
      const done = tail.then(async () => {
        await prepareDir();
        try {
          await appendFile(path, line, { mode: 0o640 });
        } catch (error) {
          throw sinkError("write the audit log", path, error);
        }
        current = path;
        return path;
      });
      tail = done.catch(() => {});
      return done;
    },
    async check() {
      await prepareDir();
      try {
        await access(dir, constants.W_OK | constants.X_OK);
      } catch (error) {
        throw sinkError("write the audit log in", dir, error);
      }
      const path = join(dir, auditFileName(now()));
      try {
        await access(path, constants.W_OK);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw sinkError("write the audit log", path, error);
      }
    },
    current: () => current ?? join(dir, auditFileName(now())),
  };
}

/** One line per record on a stream (the process's stdout by default; the CLI passes stderr). */
export function createStreamSink(write: (line: string) => void): AuditSink {
  return {
    async write(line) {
      try {
        write(line);
      } catch (error) {
        throw new Isol8Error(`Cannot write the audit log to its stream: ${(error as Error).message}`);
      }
      return null;
    },
    async check() {},
    current: () => null,
  };
}
