// Small stand-ins for unit tests of the launcher and the updater: shell-script "binaries"
// that print a version, a fetch that serves files from a map (no network at all), and
// throwaway signing keys with the signed files of a release version.
import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { formatChecksums } from "../src/update/checksums";
import type { FetchLike } from "../src/update/download";
import { CHECKSUMS_FILE, SIGNATURE_FILE, versionFileUrl } from "../src/update/layout";
import { publicKeyOf, signChecksums } from "../src/update/signing-key";

/** A script that answers `--version` with `version` and otherwise exits with `exitCode`. */
export function fakeBinaryText(version: string, exitCode = 0): string {
  return `#!/bin/sh\nif [ "$1" = --version ]; then echo ${version}; exit 0; fi\nexit ${exitCode}\n`;
}

export function writeFakeBinary(path: string, version: string, exitCode = 0): void {
  writeFileSync(path, fakeBinaryText(version, exitCode));
  chmodSync(path, 0o755);
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A throwaway ed25519 key pair (never written anywhere). */
export interface TestKey {
  privateKey: KeyObject;
  /** Base64 of the raw public key, as trusted keys are written. */
  publicKey: string;
}

export function testSigningKey(): TestKey {
  const { privateKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

/**
 * URL → body of one release version under `base`: each of `files`, their SHA256SUMS, and
 * SHA256SUMS.sig signed by `keys` (none: no signature file).
 */
export function releaseFiles(base: string, version: string, files: Record<string, string>, keys: readonly TestKey[]): Map<string, string> {
  const sums = formatChecksums(Object.entries(files).map(([file, body]) => ({ file, sha256: sha256(body) })));
  const served = new Map(Object.entries(files).map(([file, body]) => [versionFileUrl(base, version, file), body]));
  served.set(versionFileUrl(base, version, CHECKSUMS_FILE), sums);
  if (keys.length) served.set(versionFileUrl(base, version, SIGNATURE_FILE), signChecksums(version, sums, keys));
  return served;
}

/** A fetch answering from `files` (URL → body), 404 otherwise; records every URL asked for. */
export function fakeFetch(files: Map<string, string | Uint8Array>): FetchLike & { requests: string[] } {
  const requests: string[] = [];
  const fetch = async (url: string) => {
    requests.push(url);
    const body = files.get(url);
    return body === undefined ? new Response("not found", { status: 404, statusText: "Not Found" }) : new Response(body);
  };
  return Object.assign(fetch, { requests });
}
