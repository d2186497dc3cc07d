// The regular files under a session's /sandbox, as the sandbox user sees them (symlinks are
// never followed): `DockerIsol8.listFiles()`, the MCP tool list_files.

export interface SandboxFile {
  /** Path relative to /sandbox. */
  path: string;
  size: number;
  /** Last modification, as the supervisor reports it. */
  modifiedAt: string;
}

export interface SandboxFiles {
  files: SandboxFile[];
  /** The listing stopped at its cap (10 000 entries). */
  truncated: boolean;
}
