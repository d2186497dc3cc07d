import { formatError, Isol8Error } from "../errors";
import { binaryVersion } from "../update/binary-version";
import type { FetchLike } from "../update/download";
import { ReleaseError } from "../update/errors";
import { installBinary } from "../update/install";
import { CHECKSUMS_FILE, releaseBaseUrl, versionFileUrl } from "../update/layout";
import { binaryFileName, type ReleaseTarget } from "../update/platform";
import { requireTrustedKeys } from "../update/signature";
import { downloadVerifiedChecksums } from "../update/verified-checksums";
import { compareVersions } from "../update/versions";
import { createProgress } from "./progress";

/** Everything ensureBinary depends on, passed in (the launcher wires process I/O). */
export interface EnsureBinaryOptions {
  /** Where the binary lives (~/.isol8/bin/isol8 or ISOL8_BINARY). */
  path: string;
  target: ReleaseTarget;
  /** The launcher's version: the binary must be at least this. */
  version: string;
  env: Record<string, string | undefined>;
  /** The release public keys this launcher trusts (embedded at build time). */
  trustedKeys: readonly string[];
  /** Ask before downloading (a person is at the terminal). */
  interactive: boolean;
  confirm: (question: string) => boolean;
  /** One line to stderr. */
  log: (line: string) => void;
  /** Raw writes to stderr (the progress line). */
  write: (text: string) => void;
  signal?: AbortSignal;
  fetch?: FetchLike;
}

/**
 * Makes sure a usable binary is at `path`; resolves false when there is none to run.
 *
 * A binary at least as new as the launcher is kept: a newer one was put there on
 * purpose (by `isol8 serve --update` or by hand), and replacing it would undo that
 * update on every launch. A missing, broken or older binary is downloaded.
 *
 * What is installed is decided by the release's SHA256SUMS, and only once its signature
 * by a trusted key is verified (see update/signature.ts).
 *
 * When the download fails or is refused (bad signature, checksum mismatch, server down) and an older
 * binary that runs is installed, the launcher says so and runs that one: the installed
 * binary was verified when it was installed, and a command that works beats one that
 * stops because a mirror is down. With nothing installed it fails with exit 1.
 */
export async function ensureBinary(options: EnsureBinaryOptions): Promise<boolean> {
  const { path, version, log } = options;
  const installed = binaryVersion(path);
  if (installed && compareVersions(installed, version) >= 0) return true;

  const state = installed ? `${path} is isol8 ${installed}` : `no isol8 binary at ${path}`;
  const fallback = (hinted = false): boolean => {
    if (installed) log(`isol8: running the installed isol8 ${installed} instead of ${version}`);
    else if (!hinted) log("hint: run again once the release can be downloaded, or set ISOL8_BINARY to an isol8 binary");
    return Boolean(installed);
  };
  try {
    const base = releaseBaseUrl(options.env);
    // A launcher that could verify nothing neither asks nor downloads.
    requireTrustedKeys(version, options.trustedKeys);
    if (options.interactive && !options.confirm(`${state}. Download isol8 ${version} (${options.target}) from ${base}?`)) {
      if (!installed) log("isol8: not downloaded; there is no isol8 binary to run");
      return fallback(true);
    }
    log(`isol8: ${state}; downloading isol8 ${version} (${options.target})`);
    await download(options, base);
    log(`isol8: installed isol8 ${version} at ${path}`);
    return true;
  } catch (error) {
    if (options.signal?.aborted) throw error;
    log(`isol8: ${formatError(error)}`);
    return fallback(error instanceof Isol8Error && Boolean(error.hint));
  }
}

async function download(options: EnsureBinaryOptions, base: string): Promise<void> {
  const { version, target, signal, fetch } = options;
  const sums = await downloadVerifiedChecksums({ baseUrl: base, version, trustedKeys: options.trustedKeys, signal, fetch });
  const file = binaryFileName(target);
  const sha256 = sums.get(file);
  if (!sha256) throw new ReleaseError(`Cannot download isol8 ${version}: "${versionFileUrl(base, version, CHECKSUMS_FILE)}" lists no "${file}"`);
  const progress = options.interactive ? createProgress(options.write, `downloading ${file}`) : undefined;
  try {
    await installBinary({ url: versionFileUrl(base, version, file), sha256, path: options.path, version, signal, fetch, onProgress: progress?.update });
  } finally {
    progress?.done();
  }
}
