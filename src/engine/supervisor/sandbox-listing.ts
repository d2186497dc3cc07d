/** The supervisor's listing of /sandbox: regular files with size and modification time. */
export interface SandboxListing {
  files: Map<string, { size: number; mtime: string }>;
  /** The supervisor stopped at its entry cap. */
  truncated: boolean;
}

/** `<size>\t<mtime>\t<path>` lines (supervisor.c `handle_list`); anything else is skipped. */
export function parseSandboxListing(text: string): SandboxListing {
  const files = new Map<string, { size: number; mtime: string }>();
  let truncated = false;
  for (const line of text.split("\n")) {
    if (line === "truncated") truncated = true;
    const first = line.indexOf("\t");
    const second = line.indexOf("\t", first + 1);
    if (first < 0 || second < 0) continue;
    const size = Number(line.slice(0, first));
    const path = line.slice(second + 1);
    if (!Number.isSafeInteger(size) || !path) continue;
    files.set(path, { size, mtime: line.slice(first + 1, second) });
  }
  return { files, truncated };
}
