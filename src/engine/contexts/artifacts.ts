import { createHash } from "node:crypto";
import { extname } from "node:path";
import type { Artifact } from "../../protocol/context";
import type { Sandbox } from "../sandbox";
import type { SandboxListing } from "../supervisor/sandbox-listing";

/** MIME types by file extension (application/octet-stream otherwise). */
const MIME_TYPES: Readonly<Record<string, string>> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".svg": "image/svg+xml",
  ".pdf": "application/pdf",
  ".html": "text/html",
  ".htm": "text/html",
  ".txt": "text/plain",
  ".log": "text/plain",
  ".md": "text/markdown",
  ".csv": "text/csv",
  ".tsv": "text/tab-separated-values",
  ".json": "application/json",
  ".xml": "application/xml",
  ".yaml": "application/yaml",
  ".yml": "application/yaml",
  ".py": "text/x-python",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".ts": "text/x-typescript",
  ".sh": "text/x-shellscript",
  ".zip": "application/zip",
  ".gz": "application/gzip",
  ".tar": "application/x-tar",
  ".parquet": "application/vnd.apache.parquet",
  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
};

export function mimeTypeOf(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

/** Paths created or changed between two listings (pure), in path order. */
export function changedPaths(before: SandboxListing["files"], after: SandboxListing["files"]): string[] {
  const changed: string[] = [];
  for (const [path, now] of after) {
    const was = before.get(path);
    if (!was || was.size !== now.size || was.mtime !== now.mtime) changed.push(path);
  }
  return changed.sort();
}

/** At most this many artifacts are hashed per cell or execution; the rest are listed without reading. */
const MAX_HASHED = 100;

/**
 * Files created or changed under /sandbox in one container since the previous look, each with
 * size, sha256 and MIME type. A new container starts from an empty /sandbox.
 */
export class ArtifactTracker {
  private sandboxId: string | null = null;
  private last: SandboxListing["files"] = new Map();

  constructor(private readonly maxReadBytes: number) {}

  async changes(sandbox: Sandbox): Promise<Artifact[]> {
    if (sandbox.id !== this.sandboxId) {
      this.sandboxId = sandbox.id;
      this.last = new Map();
    }
    const listing = await sandbox.channel.listSandbox();
    const paths = changedPaths(this.last, listing.files);
    this.last = listing.files;
    const artifacts: Artifact[] = [];
    for (const [i, path] of paths.entries()) {
      const { size } = listing.files.get(path)!;
      let sha256 = "";
      if (i < MAX_HASHED && size <= this.maxReadBytes) {
        const read = await sandbox.channel.readFile(path, this.maxReadBytes);
        if (read.ok) sha256 = createHash("sha256").update(read.content).digest("hex");
      }
      artifacts.push({ path, size, sha256, mimeType: mimeTypeOf(path) });
    }
    return artifacts;
  }
}
