import semver from "semver";

/** `1.2.3`, `1.2.3-beta.1`, `1.2.3+build.5`: what a release may be called (it becomes part of a URL). */
export const VERSION_PATTERN = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** Whether `text` is a version a release may carry: exactly this form, nothing semver would also forgive (`v1.2.3`). */
export function isVersion(text: string): boolean {
  return VERSION_PATTERN.test(text) && semver.valid(text) !== null;
}

/** Semver precedence: negative when `a` is older than `b`, 0 when equal (build metadata ignored). */
export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b);
}
