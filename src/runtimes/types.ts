/** A file fetched from the npm registry into an image's build context. */
export interface NpmArtifact {
  /** Name in the build context, e.g. `node.tgz`. */
  file: string;
  /** Package name per CPU architecture (Node's `process.arch`). */
  packages: Partial<Record<string, string>>;
  /** Highest published version with this major is used. */
  major: number;
}

/**
 * Everything isol8 knows about one runtime, as plain data: no behaviour, no imports
 * beyond types. The engine turns it into commands and images.
 */
export interface RuntimeDefinition<Name extends string = string> {
  name: Name;
  /** File extensions that select this runtime, with the leading dot. */
  extensions: readonly string[];
  /** Extension used for inline code when the request does not choose one. */
  defaultExtension: string;
  /** Command that runs a program file; `{file}` is replaced by its absolute path. */
  command: readonly string[];
  /** Extra environment for the program. */
  env?: Readonly<Record<string, string>>;
  /** Asset name of the Dockerfile (see src/assets.ts). */
  dockerfile: string;
  /** Binaries fetched from the npm registry for the image. */
  artifacts: readonly NpmArtifact[];
  /** How `installPackages` are installed at run time (absent: not supported for this runtime). */
  install?: PackageInstall;
  /**
   * Command run once in a fresh image at setup that prints the package registry's URL or
   * host name(s), one per line; recorded as an image label. Registry hosts are never
   * written into isol8 itself: they come from the package manager's own configuration.
   */
  registryQuery?: readonly string[];
  /**
   * The runtime's own heap limit, set from the execution's memory limit so the runtime stops
   * (and says so) before the kernel kills it: `env` gets `flag` with `{mb}` replaced.
   */
  heapLimit?: { env: string; flag: string; /** Share of the memory limit for the heap (the rest is native memory). */ share: number };
  /**
   * How the runtime reports running out of memory itself: an exit code and a pattern (a
   * regular expression's source) found at the end of stderr. Such an exit is reported as
   * killReason "memory-limit".
   */
  outOfMemory?: { exitCodes: readonly number[]; stderr: string };
  /**
   * How packages are baked into a derived image (`isol8 setup --<runtime>`, `isol8 build`):
   * exec-form RUNs (no shell) in `workdir`: `before`, then `argv` (`{packages}` expands to the
   * package arguments, with the install prefix), then `then`.
   */
  bake?: { workdir: string; before?: readonly (readonly string[])[]; argv: readonly string[]; then?: readonly (readonly string[])[] };
  /**
   * A program started ahead of each execution of a pooled container (security.standbyPrograms;
   * supervisor.c, "standby program"): `argv` starts the runtime on its standby script in the
   * image, which waits for the execution's argv, env and working directory and then runs the
   * program file as `command` would. Absent: the runtime cannot take them after it starts.
   */
  standby?: StandbyDefinition;
}

export interface StandbyDefinition {
  argv: readonly string[];
  /**
   * Environment variables the runtime reads as it starts (a regular expression's source on
   * their names): an execution whose entries for them differ from the container's starts its
   * own program.
   */
  startupEnv: string;
  /** Files in /sandbox the runtime reads as it starts; writing one discards the waiting program. */
  startupFiles?: readonly string[];
  /**
   * For a runtime that fixes its main module and arguments as it starts (deno): `argv` goes on
   * with the default program file (/sandbox/main plus the default extension), and only an
   * execution of that file without arguments is handed to it.
   */
  onDefaultProgram?: true;
}

export interface PackageInstall {
  /** argv run in /sandbox as the sandbox user; `{packages}` expands to the package arguments. */
  argv: readonly string[];
  /** A package argument must match this whole pattern (no options, URLs, paths or shell characters). */
  pattern: string;
  /** Prefix added to a package name that has none (e.g. `npm:` for deno). */
  prefix?: string;
}
