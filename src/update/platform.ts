/** The platforms isol8 publishes binaries for (`<os>-<arch>`, the names used in a release). */
export const RELEASE_TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"] as const;
/** One of RELEASE_TARGETS. */
export type ReleaseTarget = (typeof RELEASE_TARGETS)[number];

/** Whether isol8 publishes a binary for `name` (`<os>-<arch>`). */
export function isReleaseTarget(name: string): name is ReleaseTarget {
  return (RELEASE_TARGETS as readonly string[]).includes(name);
}

/** The file name of a target's binary in a release: `isol8-linux-x64`. */
export function binaryFileName(target: ReleaseTarget): string {
  return `isol8-${target}`;
}

/**
 * `<os>-<arch>` of a process (`process.platform`, `process.arch`), with `-musl` appended on
 * a Linux without glibc: isol8's Linux binaries need glibc, so such a host is named as
 * what it is and reported unsupported rather than handed a binary that cannot start.
 */
export function platformName(platform: string, arch: string, glibc = true): string {
  return `${platform}-${arch}${platform === "linux" && !glibc ? "-musl" : ""}`;
}

/** Whether this process runs on glibc (Node and Bun both fill `process.report`'s header). */
export function hasGlibc(): boolean {
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return Boolean(report?.header?.glibcVersionRuntime);
  } catch {
    return true;
  }
}
