/**
 * Where a release lives. One layout, written by `bun build.ts --release <dir>` and read by
 * the launcher and by `serve --update`:
 *
 *   <base>/v<version>/isol8-<os>-<arch>   the binaries (os: linux|darwin, arch: x64|arm64)
 *   <base>/v<version>/SHA256SUMS          `<hex>  <file>` per line (what every install checks)
 *   <base>/v<version>/SHA256SUMS.sig      `ed25519 <key> <signature>` per signing key (see signature.ts)
 *   <base>/v<version>/manifest.json       { version, files: { "<os>-<arch>": { file, sha256 } } }
 *   <base>/v<version>/launcher.cjs        the npm launcher of that version
 *   <base>/latest/manifest.json           the newest version's manifest (`serve --update` takes only
 *                                         the version from it; what it installs is decided by that
 *                                         version's signed SHA256SUMS)
 *
 * With a GitHub-style host the version directories are release tags (`v0.2.0`) and
 * `latest` is a tag moved to each new release.
 */
import { ReleaseError } from "./errors";

/** The project's release location; ISOL8_RELEASE_URL overrides it (a mirror, a test server). */
export const DEFAULT_RELEASE_URL = "https://github.com/isol8/isol8/releases/download";
/** File names inside a version directory, and the directory holding the newest manifest. */
export const CHECKSUMS_FILE = "SHA256SUMS";
export const SIGNATURE_FILE = "SHA256SUMS.sig";
export const MANIFEST_FILE = "manifest.json";
export const LAUNCHER_FILE = "launcher.cjs";
export const LATEST_DIR = "latest";

/** The directory name of one version in a release tree. */
export function versionDir(version: string): string {
  return `v${version}`;
}

/**
 * The release base URL from ISOL8_RELEASE_URL or the default, without trailing slashes.
 * Plain HTTP is refused except to a loopback address: the signature decides what is
 * installed, but only TLS (or a local server) keeps a network attacker from choosing
 * which signed release, if any, a client sees.
 */
export function releaseBaseUrl(env: Record<string, string | undefined> = process.env): string {
  const text = env.ISOL8_RELEASE_URL || DEFAULT_RELEASE_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ReleaseError(`Cannot use release URL "${text}": it is not a URL`, "set ISOL8_RELEASE_URL to an https:// URL");
  }
  const loopback = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/.test(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new ReleaseError(
      `Cannot use release URL "${text}": only https:// is allowed (http:// only for a loopback address)`,
      "set ISOL8_RELEASE_URL to an https:// URL",
    );
  }
  return url.href.replace(/\/+$/, "");
}

/** The URL of one file of one version. */
export function versionFileUrl(base: string, version: string, file: string): string {
  return `${base}/${versionDir(version)}/${file}`;
}

/** The URL of the newest version's manifest. */
export function latestManifestUrl(base: string): string {
  return `${base}/${LATEST_DIR}/${MANIFEST_FILE}`;
}
