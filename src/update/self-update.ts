import { realpathSync, statSync } from "node:fs";
import { VERSION } from "../version";
import { type DownloadOptions, downloadText } from "./download";
import { ReleaseError } from "./errors";
import { installBinary } from "./install";
import { CHECKSUMS_FILE, latestManifestUrl, releaseBaseUrl, versionFileUrl } from "./layout";
import { parseManifest } from "./manifest";
import { binaryFileName, hasGlibc, isReleaseTarget, platformName } from "./platform";
import { trustedKeys } from "./trusted-keys";
import { downloadVerifiedChecksums } from "./verified-checksums";
import { compareVersions } from "./versions";

/** What selfUpdate needs; `fetch` and `signal` as for every download. */
export interface SelfUpdateOptions extends DownloadOptions {
  /** The release base URL (see layout.ts). */
  baseUrl: string;
  /** The running version. */
  currentVersion: string;
  /** The release public keys to trust (base64; updateSelf passes the embedded ones). */
  trustedKeys: readonly string[];
  /** The binary to replace (default: this process's executable, which must be the compiled isol8). */
  executablePath?: string;
  /** Default `process.platform`. */
  platform?: string;
  /** Default `process.arch`. */
  arch?: string;
}

/** What selfUpdate did. */
export interface SelfUpdateResult {
  /** True when `executablePath` now holds `to`. */
  updated: boolean;
  from: string;
  /** The version installed now (`from` when nothing changed). */
  to: string;
  /** The version the release's latest manifest names. */
  latest: string;
}

/**
 * Replaces the isol8 binary with the release's latest version when that is newer. Reads
 * the version from `<base>/latest/manifest.json`, then that version's SHA256SUMS and its
 * signature, which must verify with a trusted key; downloads this platform's binary,
 * checks its SHA-256 against the signed SHA256SUMS and that it runs, then renames it over
 * `executablePath` (same directory, same permission bits). The unsigned manifest decides
 * nothing but which version to look at: the version is part of what is signed, the file
 * name is this platform's, the checksum the signed one. On any failure it throws and the
 * binary is untouched. An older "latest" is never installed over a newer build.
 */
export async function selfUpdate(options: SelfUpdateOptions): Promise<SelfUpdateResult> {
  const { baseUrl, currentVersion: from } = options;
  const target = platformName(options.platform ?? process.platform, options.arch ?? process.arch, hasGlibc());
  if (!isReleaseTarget(target)) throw new ReleaseError(`Cannot update isol8: no release binary exists for platform "${target}"`);
  const manifestUrl = latestManifestUrl(baseUrl);
  const manifest = parseManifest(await downloadText(manifestUrl, options), manifestUrl);
  const { version } = manifest;
  if (compareVersions(version, from) <= 0) return { updated: false, from, to: from, latest: version };
  const path = realpathSync(options.executablePath ?? compiledExecutable());
  const download = { fetch: options.fetch, signal: options.signal, idleTimeoutMs: options.idleTimeoutMs };
  const sums = await downloadVerifiedChecksums({ ...download, baseUrl, version, trustedKeys: options.trustedKeys });
  const file = binaryFileName(target);
  const sha256 = sums.get(file);
  if (!sha256) throw new ReleaseError(`Cannot update to ${version}: "${versionFileUrl(baseUrl, version, CHECKSUMS_FILE)}" lists no "${file}"`);
  await installBinary({
    ...download,
    url: versionFileUrl(baseUrl, version, file),
    sha256,
    path,
    version,
    mode: statSync(path).mode & 0o7777,
  });
  return { updated: true, from, to: version, latest: version };
}

/**
 * `selfUpdate` for the running binary, from ISOL8_RELEASE_URL (or the default release
 * location), trusting the keys embedded at build time: what `isol8 serve --update` calls
 * before serving. `log` receives one line per step for stderr.
 */
export async function updateSelf(
  options: { env?: Record<string, string | undefined>; log?: (line: string) => void } & DownloadOptions = {},
): Promise<SelfUpdateResult> {
  const baseUrl = releaseBaseUrl(options.env ?? process.env);
  options.log?.(`checking ${latestManifestUrl(baseUrl)} for a newer isol8 than ${VERSION}`);
  const result = await selfUpdate({ ...options, baseUrl, currentVersion: VERSION, trustedKeys: trustedKeys() });
  options.log?.(result.updated ? `updated isol8 ${result.from} → ${result.to}` : `isol8 ${result.from} is up to date (latest release: ${result.latest})`);
  return result;
}

/** This process's executable when it is the compiled isol8 (never the bun or node running the sources). */
function compiledExecutable(): string {
  // A compiled Bun executable runs its entry from the embedded /$bunfs/ file system.
  const compiled = typeof Bun !== "undefined" && Bun.main.startsWith("/$bunfs/");
  if (!compiled) {
    throw new ReleaseError(
      `Cannot update "${process.execPath}": isol8 is not running as its compiled binary`,
      "self-update works on the isol8 executable; from the sources, rebuild instead",
    );
  }
  return process.execPath;
}
