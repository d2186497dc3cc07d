import { readFileSync } from "node:fs";
import { SECCOMP_STRICT_PROFILE } from "../assets";
import type { Isol8Config } from "../config/schema";
import { Isol8Error } from "../errors";
import type { SeccompSetting } from "./container-options";

/**
 * The seccomp setting for executions. A custom profile that cannot be read or parsed
 * fails here, loudly: isol8 never falls back to running without a profile.
 */
export function resolveSeccomp(security: Isol8Config["security"]): SeccompSetting {
  if (security.seccomp === "unconfined") return { mode: "unconfined" };
  if (security.seccomp === "strict") return { mode: "strict", profile: SECCOMP_STRICT_PROFILE };
  const path = security.customProfilePath;
  if (!path) {
    throw new Isol8Error(
      'Cannot load the custom seccomp profile: security.customProfilePath is not set',
      'set security.customProfilePath, or use security.seccomp "strict"',
    );
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Isol8Error(`Cannot load seccomp profile "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let profile: { defaultAction?: unknown; syscalls?: unknown };
  try {
    profile = JSON.parse(text);
  } catch (error) {
    throw new Isol8Error(`Cannot load seccomp profile "${path}": invalid JSON: ${(error as Error).message}`);
  }
  if (typeof profile !== "object" || profile === null || typeof profile.defaultAction !== "string") {
    throw new Isol8Error(`Cannot load seccomp profile "${path}": "defaultAction" is missing`, "see Docker's seccomp profile format");
  }
  if (profile.syscalls !== undefined && !Array.isArray(profile.syscalls)) {
    throw new Isol8Error(`Cannot load seccomp profile "${path}": "syscalls" must be an array`);
  }
  return { mode: "custom", profile: JSON.stringify(profile) };
}
