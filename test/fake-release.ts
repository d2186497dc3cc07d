// Small stand-ins for unit tests of the launcher and the updater: shell-script "binaries"
// that print a version, and a fetch that serves files from a map (no network at all).
import { createHash } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import type { FetchLike } from "../src/update/download";

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
