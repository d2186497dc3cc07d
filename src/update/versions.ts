/** `1.2.3`, `1.2.3-beta.1`, `1.2.3+build.5`: what a release may be called (it becomes part of a URL). */
export const VERSION_PATTERN = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** Whether `text` is a version a release may carry. */
export function isVersion(text: string): boolean {
  return VERSION_PATTERN.test(text);
}

/** Semver precedence: negative when `a` is older than `b`, 0 when equal (build metadata ignored). */
export function compareVersions(a: string, b: string): number {
  const [coreA = "", preA] = a.split("+")[0]!.split(/-(.*)/s);
  const [coreB = "", preB] = b.split("+")[0]!.split(/-(.*)/s);
  const numsA = coreA.split(".").map(Number);
  const numsB = coreB.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const diff = (numsA[i] ?? 0) - (numsB[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  // A pre-release sorts before its release; pre-releases compare field by field.
  if (!preA || !preB) return preA === preB ? 0 : preA ? -1 : 1;
  const fieldsA = preA.split(".");
  const fieldsB = preB.split(".");
  for (let i = 0; i < Math.max(fieldsA.length, fieldsB.length); i++) {
    const x = fieldsA[i];
    const y = fieldsB[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    if (x === y) continue;
    const numeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    if (numeric) return Math.sign(Number(x) - Number(y));
    if (/^\d+$/.test(x) !== /^\d+$/.test(y)) return /^\d+$/.test(x) ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
