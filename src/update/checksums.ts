import { ReleaseError } from "./errors";

/** One line of SHA256SUMS. */
export interface ChecksumEntry {
  file: string;
  /** Lower-case hex SHA-256. */
  sha256: string;
}

/** The `SHA256SUMS` text for these files (the format `sha256sum` writes and `sha256sum -c` reads). */
export function formatChecksums(entries: readonly ChecksumEntry[]): string {
  return entries.map((e) => `${e.sha256}  ${e.file}\n`).join("");
}

/**
 * The file → SHA-256 map of a `SHA256SUMS` text. Accepts `sha256sum`'s text and binary
 * markers (two spaces, or space and `*`); any other non-blank line is an error, so a
 * damaged file is never half-trusted.
 */
export function parseChecksums(text: string, source: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (!line.trim()) continue;
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (!match) throw new ReleaseError(`Cannot read "${source}": line ${index + 1} is not "<sha256>  <file>"`);
    sums.set(match[2]!, match[1]!.toLowerCase());
  }
  return sums;
}
