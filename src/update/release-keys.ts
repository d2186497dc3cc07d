import * as v from "valibot";
import { formatIssues } from "../protocol/issues";
import { ReleaseError } from "./errors";
import { isPublicKey } from "./signature";

// One entry per trusted key; the note says whose key it is and since when (see README
// "Launcher and updates" for rotation). Unknown fields are errors, not silently ignored.
const ReleaseKeysSchema = v.array(
  v.strictObject({
    publicKey: v.pipe(v.string(), v.check(isPublicKey, "must be the base64 of a 32-byte ed25519 public key")),
    note: v.pipe(v.string(), v.minLength(1, "must say whose key it is")),
  }),
);

/** The repository's list of trusted release keys (src/update/release-keys.json). */
export type ReleaseKeys = v.InferOutput<typeof ReleaseKeysSchema>;

/** Validates the repository's key list (read by build.ts); throws a ReleaseError naming each problem. */
export function parseReleaseKeys(json: unknown, source: string): ReleaseKeys {
  const parsed = v.safeParse(ReleaseKeysSchema, json);
  if (!parsed.success) {
    throw new ReleaseError(`Cannot read "${source}": it is not a list of release keys\n${formatIssues(parsed.issues).join("\n")}`);
  }
  return parsed.output;
}
