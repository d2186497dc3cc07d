import { createHash, timingSafeEqual } from "node:crypto";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/**
 * Checks `Authorization: Bearer <key>` in constant time (both sides hashed to the same
 * length first, so neither the key's length nor its content leaks through timing).
 * Returns 401 without a usable header, 403 for a wrong key, null when allowed.
 */
export function createKeyCheck(key: string): (authorization: string | null) => 401 | 403 | null {
  if (!key) throw new Error("an API key is required");
  const expected = digest(key);
  return (authorization) => {
    const match = authorization ? /^Bearer\s+(\S.*)$/i.exec(authorization.trim()) : null;
    if (!match) return 401;
    return timingSafeEqual(digest(match[1]!), expected) ? null : 403;
  };
}

/** A stable, non-secret name for the principal holding a key (for audit records). */
export function principalOf(key: string): string {
  return `key:${digest(key).toString("hex").slice(0, 12)}`;
}
