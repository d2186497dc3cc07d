import { RequestError } from "../../errors";

/**
 * A Debian package name (Debian Policy 5.6.7: lower-case letters, digits, `+`, `-`, `.`; at least
 * two characters, starting with a letter or digit), optionally with an architecture qualifier.
 * Names are data: never options, versions, paths or shell.
 */
const APT_PACKAGE = /^[a-z0-9][a-z0-9+.-]{1,99}(?::[a-z0-9]{2,16})?$/;

/** Validated, de-duplicated and sorted Debian package names (throws RequestError naming the first bad one). */
export function validateAptPackages(packages: readonly string[]): string[] {
  const bad = packages.find((name) => !APT_PACKAGE.test(name));
  if (bad !== undefined) {
    throw new RequestError(`Cannot install ${JSON.stringify(bad)}: not a Debian package name`, "apt", "names are lower-case letters, digits, + - . (e.g. python3-numpy)");
  }
  return [...new Set(packages)].sort();
}

/**
 * The RUN step that installs Debian packages into an image, exec-form: the names are
 * positional parameters of a fixed script, so they never meet a shell parser. apt's sources
 * are the image's own (the base image's, from the host's mirror configuration at setup).
 * Afterwards it removes set-uid/set-gid bits again (a package may bring such files) and keeps
 * /etc/passwd and /etc/group as the links the supervisor's identity setup needs (a package
 * that adds a system user replaces them with files).
 */
export function aptInstallStep(packages: readonly string[]): string {
  const script = [
    "set -e",
    "export DEBIAN_FRONTEND=noninteractive",
    "apt-get update -q",
    'apt-get install -y -q --no-install-recommends -- "$@"',
    "rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*",
    "find / -xdev -type f -perm /6000 -exec chmod a-s {} +",
    'for f in passwd group; do if [ ! -L "/etc/$f" ]; then mv "/etc/$f" "/usr/local/lib/isol8/$f" && ln -s "isol8/$f" "/etc/$f"; fi; done',
    "(python3 -m compileall -q /usr/lib/python3 >/dev/null 2>&1 || true)",
  ].join("\n");
  return `RUN ${JSON.stringify(["sh", "-c", script, "isol8-apt", ...packages])}`;
}
