import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { binaryVersion } from "./binary-version";
import { type FileDownloadOptions, downloadToFile } from "./download";
import { ChecksumError, ReleaseError } from "./errors";

/** What installBinary needs: where from, what checksum and version, where to. */
export interface InstallBinaryOptions extends FileDownloadOptions {
  /** Where the binary comes from. */
  url: string;
  /** Its SHA-256 as the release lists it. */
  sha256: string;
  /** Where it goes (replaced atomically when it exists). */
  path: string;
  /** The version the new binary must print for `--version`. */
  version: string;
  /** Permission bits of the installed file (default 0755). */
  mode?: number;
}

/**
 * Downloads a binary, checks it, and moves it into place in one rename. The file is
 * written next to `path` (same directory, so the rename is atomic), its SHA-256 compared
 * with the release's, made executable, and run once with `--version`; only a binary that
 * passes all three replaces `path`. On any failure the partial file is removed and
 * `path` is untouched.
 */
export async function installBinary(options: InstallBinaryOptions): Promise<void> {
  const dir = dirname(options.path);
  const temp = join(dir, `.${basename(options.path)}.download-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch (error) {
      throw writeError(dir, error);
    }
    const actual = await downloadToFile(options.url, temp, options).catch((error) => {
      throw typeof (error as { code?: unknown }).code === "string" ? writeError(dir, error) : error;
    });
    if (actual !== options.sha256.toLowerCase()) throw new ChecksumError(options.url, options.sha256, actual);
    chmodSync(temp, options.mode ?? 0o755);
    const reported = binaryVersion(temp);
    if (reported !== options.version) {
      throw new ReleaseError(
        `Cannot install "${options.url}": the binary ${reported ? `reports version ${reported}` : "does not run"}, expected ${options.version}`,
        "the release is damaged or built for another platform; nothing was replaced",
      );
    }
    renameSync(temp, options.path);
  } finally {
    rmSync(temp, { force: true });
  }
}

function writeError(dir: string, error: unknown): ReleaseError {
  const code = (error as { code?: string }).code ?? String(error);
  return new ReleaseError(
    `Cannot write to "${dir}": ${code}`,
    code === "EACCES" || code === "EPERM" ? "run as a user who may write there, or reinstall isol8 elsewhere" : undefined,
  );
}
