import { createHash, timingSafeEqual } from "node:crypto";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** A stable, non-secret name for the principal holding a key (audit records, session ownership). */
export function principalOf(key: string): string {
  return `key:${digest(key).toString("hex").slice(0, 12)}`;
}

/**
 * Does `Authorization: Bearer <token>` carry this token (in constant time)? For a token that
 * opens one route only (server.metricsToken); null token: never.
 */
export function createTokenCheck(token: string | undefined): (authorization: string | null) => boolean {
  if (token === undefined) return () => false;
  const expected = digest(token);
  return (authorization) => {
    const presented = authorization ? /^Bearer\s+(\S.*)$/i.exec(authorization.trim())?.[1] : undefined;
    return presented !== undefined && timingSafeEqual(digest(presented), expected);
  };
}

/** The principal a request authenticated as, or why it did not: 401 without a usable header, 403 for a wrong key. */
export type KeyVerdict = { principal: string } | { status: 401 | 403 };

/**
 * Checks `Authorization: Bearer <key>` against every accepted key in constant time: both
 * sides are hashed to the same length first and every key is compared (no early exit), so
 * neither a key's length, its content nor which key matched leaks through timing.
 */
export function createKeyCheck(keys: readonly string[]): (authorization: string | null) => KeyVerdict {
  const accepted = [...new Set(keys)];
  if (accepted.length === 0 || accepted.some((key) => key.length === 0)) throw new Error("an API key is required");
  const expected = accepted.map((key) => ({ digest: digest(key), principal: principalOf(key) }));
  if (new Set(expected.map((e) => e.principal)).size !== expected.length) throw new Error("two API keys share a principal name: choose another key");
  return (authorization) => {
    const match = authorization ? /^Bearer\s+(\S.*)$/i.exec(authorization.trim()) : null;
    if (!match) return { status: 401 };
    const presented = digest(match[1]!);
    let principal: string | null = null;
    for (const key of expected) if (timingSafeEqual(presented, key.digest)) principal = key.principal;
    return principal === null ? { status: 403 } : { principal };
  };
}
