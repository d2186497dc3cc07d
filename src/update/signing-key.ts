/**
 * The maintainer's side of release signing, used by build.ts only (never bundled into
 * the launcher or the binary): create a key file, read one, sign a release's checksums.
 * A key file is an unencrypted PKCS#8 PEM ed25519 private key, the format
 * `openssl genpkey -algorithm ed25519` writes.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { ReleaseError } from "./errors";
import { formatSignatures, signedMessage } from "./signature";

/** A private key read from a key file, with its public half. */
export interface SigningKey {
  path: string;
  privateKey: KeyObject;
  /** Base64 of the raw 32-byte public key: what release-keys.json and SHA256SUMS.sig hold. */
  publicKey: string;
}

/** Base64 of the raw ed25519 public key of a private or public key object. */
export function publicKeyOf(key: KeyObject): string {
  const spki = createPublicKey(key).export({ format: "der", type: "spki" });
  return spki.subarray(spki.length - 32).toString("base64");
}

/**
 * Writes a new ed25519 private key to `path` (mode 0600; an existing file is never
 * overwritten) and returns its public key.
 */
export function createSigningKey(path: string): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  try {
    writeFileSync(path, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600, flag: "wx" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ReleaseError(`Cannot create signing key "${path}": ${code === "EEXIST" ? "the file exists" : code}`, code === "EEXIST" ? "choose a new file; a key is never overwritten" : undefined);
  }
  return publicKeyOf(privateKey);
}

/**
 * Reads a signing key file. Refused: a file other users may read (like ssh, since a key
 * others could copy signs nothing trustworthy), anything but an ed25519 private key.
 */
export function readSigningKey(path: string): SigningKey {
  const refuse = (state: string, hint?: string) => new ReleaseError(`Cannot use signing key "${path}": ${state}`, hint);
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw refuse((error as NodeJS.ErrnoException).code ?? String(error));
  }
  if (mode & 0o077) throw refuse(`other users may read it (mode 0${mode.toString(8)})`, `chmod 600 ${path}`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch (error) {
    throw refuse(`it is not an unencrypted PEM private key (${(error as Error).message})`, "create one with bun build.ts --new-signing-key <file>");
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw refuse(`it is an ${privateKey.asymmetricKeyType} key, not ed25519`);
  return { path, privateKey, publicKey: publicKeyOf(privateKey) };
}

/** The `SHA256SUMS.sig` text: one signature of `version` + `sums` per key. */
export function signChecksums(version: string, sums: string, keys: readonly Pick<SigningKey, "privateKey" | "publicKey">[]): string {
  const message = signedMessage(version, sums);
  return formatSignatures(keys.map((key) => ({ publicKey: key.publicKey, signature: sign(null, message, key.privateKey).toString("base64") })));
}
