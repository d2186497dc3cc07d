// API keys of the key store: how one is made, how it is stored, how a presented one is found.
//
// A key is `isol8_<id>_<secret>`: `id` is its public id (10 characters, a-z 0-9: shown in
// listings, audit records and logs, and the row the store looks up), `secret` 32 random bytes
// (base64url). The store keeps only the SHA-256 of the whole key. A plain, unsalted hash is
// enough here, unlike for passwords: the secret has 256 bits of entropy, so neither a
// dictionary, a rainbow table nor a brute-force search over the hash can find it; a salt or a
// slow hash would only add cost to every request. Presented keys are compared by hash in
// constant time.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const ID_ALPHABET = "abcdefghijkmnopqrstuvwxyz23456789"; // no l, 0, 1: ids are read aloud and typed
const ID_LENGTH = 10;
const KEY_PATTERN = /^isol8_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;

/** A new public id: 10 characters from a 33-letter alphabet (≈ 50 bits; uniqueness is checked by the store). */
export function newKeyId(random: (size: number) => Buffer = randomBytes): string {
  // Rejection sampling keeps every character equally likely.
  let id = "";
  while (id.length < ID_LENGTH) {
    for (const byte of random(16)) {
      if (byte < 256 - (256 % ID_ALPHABET.length) && id.length < ID_LENGTH) id += ID_ALPHABET[byte % ID_ALPHABET.length];
    }
  }
  return id;
}

/** A new key for a public id. */
export function newKey(id: string, random: (size: number) => Buffer = randomBytes): string {
  return `isol8_${id}_${random(32).toString("base64url")}`;
}

/** What the store keeps of a key: its SHA-256, hex. */
export function keyHash(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** The public id a presented key claims, or null when it is not shaped like a store key (e.g. a bootstrap key). */
export function keyIdOf(presented: string): string | null {
  return KEY_PATTERN.exec(presented)?.[1] ?? null;
}

/** Does the presented key hash to the stored hash? Constant time in the contents. */
export function keyMatches(presented: string, storedHash: string): boolean {
  const a = Buffer.from(keyHash(presented), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The principal a store key acts as (session owner, audit records, logs). */
export const principalOfKeyId = (id: string) => `key:${id}`;
