import { readFileSync } from "node:fs";
import { SECCOMP_STRICT_PROFILE } from "../assets";
import type { Isol8Config } from "../config/schema";
import { ConfigError } from "../errors";
import type { SeccompSetting } from "./container-options";

/** Architectures whose system calls run on a 64-bit kernel beside the native ones. */
const FOREIGN_ARCHES = new Set(["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_ARM"]);

/** The 32-bit (and x32) architectures a Docker seccomp profile lets through, if any. */
export function foreignArchitectures(profile: { architectures?: unknown; archMap?: unknown }): string[] {
  const listed: unknown[] = [];
  if (Array.isArray(profile.architectures)) listed.push(...profile.architectures);
  if (Array.isArray(profile.archMap)) {
    for (const entry of profile.archMap as { architecture?: unknown; subArchitectures?: unknown }[]) {
      listed.push(entry?.architecture);
      if (Array.isArray(entry?.subArchitectures)) listed.push(...entry.subArchitectures);
    }
  }
  return [...new Set(listed.filter((a): a is string => typeof a === "string" && FOREIGN_ARCHES.has(a)))];
}

/**
 * The seccomp setting for executions. A custom profile that cannot be read or parsed
 * fails here, loudly: isol8 never falls back to running without a profile.
 */
export function resolveSeccomp(security: Pick<Isol8Config["security"], "seccomp" | "customProfilePath">): SeccompSetting {
  if (security.seccomp === "unconfined") return { mode: "unconfined" };
  if (security.seccomp === "strict") return { mode: "strict", profile: SECCOMP_STRICT_PROFILE };
  const path = security.customProfilePath;
  if (!path) {
    throw new ConfigError(
      'Cannot load the custom seccomp profile: security.customProfilePath is not set',
      'set security.customProfilePath, or use security.seccomp "strict"',
    );
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`Cannot load seccomp profile "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let profile: { defaultAction?: unknown; syscalls?: unknown; architectures?: unknown; archMap?: unknown };
  try {
    profile = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Cannot load seccomp profile "${path}": invalid JSON: ${(error as Error).message}`);
  }
  if (typeof profile !== "object" || profile === null || typeof profile.defaultAction !== "string") {
    throw new ConfigError(`Cannot load seccomp profile "${path}": "defaultAction" is missing`, "see Docker's seccomp profile format");
  }
  if (profile.syscalls !== undefined && !Array.isArray(profile.syscalls)) {
    throw new ConfigError(`Cannot load seccomp profile "${path}": "syscalls" must be an array`);
  }
  const foreign = foreignArchitectures(profile);
  if (foreign.length) {
    throw new ConfigError(
      `Cannot load seccomp profile "${path}": it admits 32-bit system calls (${foreign.join(", ")})`,
      "remove them from architectures/subArchitectures: a 32-bit socketcall passes its arguments in memory, out of the filter's sight",
    );
  }
  return { mode: "custom", profile: JSON.stringify(profile) };
}
