import * as v from "valibot";
import { formatIssues } from "../protocol/issues";
import { ReleaseError } from "./errors";
import type { ReleaseTarget } from "./platform";
import { VERSION_PATTERN } from "./versions";

// File names become part of a download URL: one path segment, no dot files.
const FileSchema = v.object({
  file: v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be a plain file name")),
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits")),
});

const ManifestSchema = v.object({
  version: v.pipe(v.string(), v.regex(VERSION_PATTERN, "must be a version like 1.2.3")),
  files: v.record(v.string(), FileSchema),
});

/** `manifest.json` of a release: its version and one binary per `<os>-<arch>`. */
export type Manifest = v.InferOutput<typeof ManifestSchema>;

/** The manifest build.ts writes for `version` and the binaries it built. */
export function createManifest(version: string, files: Partial<Record<ReleaseTarget, { file: string; sha256: string }>>): Manifest {
  return { version, files: files as Manifest["files"] };
}

/** The manifest in `text` (downloaded from `source`), validated; throws a ReleaseError naming each problem. */
export function parseManifest(text: string, source: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ReleaseError(`Cannot read "${source}": it is not JSON`);
  }
  const parsed = v.safeParse(ManifestSchema, json);
  if (!parsed.success) {
    throw new ReleaseError(`Cannot read "${source}": it is not a release manifest\n${formatIssues(parsed.issues).join("\n")}`);
  }
  return parsed.output;
}
