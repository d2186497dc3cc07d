import repositoryKeys from "./release-keys.json" with { type: "json" };

declare const ISOL8_TRUSTED_KEYS: readonly string[] | undefined;

/**
 * The release public keys this isol8 trusts (base64). build.ts embeds them as a constant:
 * the repository's list (release-keys.json) plus, in a release build, the public half of
 * each key that signs it. They are never read from disk at run time, so whoever can
 * write next to the binary cannot add a key. From the sources: the repository's list.
 */
export function trustedKeys(): readonly string[] {
  return typeof ISOL8_TRUSTED_KEYS !== "undefined" ? ISOL8_TRUSTED_KEYS : repositoryKeys.map((entry: { publicKey: string }) => entry.publicKey);
}
