/**
 * Release signatures: `SHA256SUMS.sig` beside a version's `SHA256SUMS`, one line per
 * signing key:
 *
 *   ed25519 <public key> <signature>
 *
 * both in base64 (the raw 32-byte key, the 64-byte signature). Each signature covers
 * the bytes `isol8 release <version>\n` followed by the exact bytes of `SHA256SUMS`: the
 * version is part of what is signed, so one release's signed checksums cannot be served
 * as another's. Only node:crypto is used (the launcher runs on plain Node).
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { SignatureError } from "./errors";

/** One line of `SHA256SUMS.sig`. */
export interface SignatureLine {
  /** Base64 of the raw 32-byte ed25519 public key. */
  publicKey: string;
  /** Base64 of the 64-byte ed25519 signature. */
  signature: string;
}

const PUBLIC_KEY = /^[A-Za-z0-9+/]{43}=$/;
const SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;
// An ed25519 SubjectPublicKeyInfo is this fixed DER header followed by the raw 32-byte key.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

const TAMPERED = "the release was tampered with or damaged; nothing was installed";

/** The bytes a release signature covers. */
export function signedMessage(version: string, sums: string | Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`isol8 release ${version}\n`), Buffer.from(sums)]);
}

/** Whether `text` is an ed25519 public key as isol8 writes it (base64 of 32 bytes). */
export function isPublicKey(text: string): boolean {
  return PUBLIC_KEY.test(text) && Buffer.from(text, "base64").length === 32;
}

/** The canonical base64 of a key, so that two spellings of the same 32 bytes compare equal. */
function canonical(key: string): string {
  return Buffer.from(key, "base64").toString("base64");
}

/** A node:crypto key for a base64 public key. */
export function publicKeyObject(key: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(key, "base64")]), format: "der", type: "spki" });
}

/** The `SHA256SUMS.sig` text for these signatures. */
export function formatSignatures(lines: readonly SignatureLine[]): string {
  return lines.map((line) => `ed25519 ${line.publicKey} ${line.signature}\n`).join("");
}

/** Parses `SHA256SUMS.sig`; any line that is not a signature line is an error naming it. */
export function parseSignatures(text: string, version: string, source: string): SignatureLine[] {
  const lines: SignatureLine[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (!line.trim()) continue;
    const [algorithm, publicKey = "", signature = "", ...rest] = line.trim().split(/\s+/);
    if (algorithm !== "ed25519" || !isPublicKey(publicKey) || !SIGNATURE.test(signature) || rest.length) {
      throw new SignatureError(version, `"${source}" line ${index + 1} is not "ed25519 <public key> <signature>"`, TAMPERED);
    }
    lines.push({ publicKey, signature });
  }
  return lines;
}

/** What verifyChecksums checks: one version's SHA256SUMS and SHA256SUMS.sig, as downloaded. */
export interface VerifyChecksumsOptions {
  version: string;
  /** The exact text of SHA256SUMS. */
  sums: string;
  /** The text of SHA256SUMS.sig. */
  signatures: string;
  /** The public keys this build trusts (base64). */
  trustedKeys: readonly string[];
  /** Where SHA256SUMS and SHA256SUMS.sig came from (for messages). */
  sumsSource: string;
  signatureSource: string;
}

/**
 * Throws a SignatureError unless `sums` is signed for `version` by at least one trusted
 * key, and every signature by a trusted key is valid. Signatures by keys this build does
 * not know are skipped: a release may carry an old and a new key's signature while keys
 * are rotated.
 */
export function verifyChecksums(options: VerifyChecksumsOptions): void {
  const { version, trustedKeys } = options;
  requireTrustedKeys(version, trustedKeys);
  const trusted = new Set(trustedKeys.map(canonical));
  const lines = parseSignatures(options.signatures, version, options.signatureSource);
  if (!lines.length) throw new SignatureError(version, `"${options.signatureSource}" holds no signature`, TAMPERED);
  const known = lines.filter((line) => trusted.has(canonical(line.publicKey)));
  if (!known.length) {
    const keys = lines.map((line) => `"${line.publicKey}"`).join(", ");
    throw new SignatureError(
      version,
      `it is signed only by ${keys}, which this build does not trust`,
      "nothing was installed; if isol8's release keys have changed since this build, reinstall isol8 through its npm package",
    );
  }
  const message = signedMessage(version, options.sums);
  for (const line of known) {
    if (!verifySignature(message, line)) {
      throw new SignatureError(version, `the signature by "${line.publicKey}" does not match "${options.sumsSource}"`, TAMPERED);
    }
  }
}

/** Throws the SignatureError of a build that trusts no key: such a build installs no release at all. */
export function requireTrustedKeys(version: string, trustedKeys: readonly string[]): void {
  if (trustedKeys.length) return;
  throw new SignatureError(
    version,
    "this build trusts no release signing key",
    "this isol8 was built without release keys and installs no release; install a signed isol8 release, or add its public key to src/update/release-keys.json and rebuild",
  );
}

function verifySignature(message: Buffer, line: SignatureLine): boolean {
  try {
    return verify(null, message, publicKeyObject(line.publicKey), Buffer.from(line.signature, "base64"));
  } catch {
    // A key that is not a point on the curve: no valid signature can come from it.
    return false;
  }
}
