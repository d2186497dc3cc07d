import type { Isol8Config } from "../config/schema";
import { parseSize, type Size } from "../config/sizes";
import type { ExecutionRequest } from "../engine/request";
import { RUNTIME_NAMES } from "../config/schema";
import { HttpError } from "./http";
import type { ExecuteOptions } from "./schemas";

const SECCOMP_STRENGTH = { unconfined: 0, custom: 1, strict: 2 } as const;
const NUMERIC = ["timeoutMs", "cpuLimit", "pidsLimit"] as const;
const SIZES = ["memoryLimit", "sandboxSize", "tmpSize", "maxOutputSize"] as const;

function refuse(option: string, why: string): never {
  throw new HttpError(403, `option "${option}" is not allowed: ${why}`, { option });
}

/**
 * The request a client may run: its options merged over its request, then checked against
 * the server's policy. A client cannot choose host networking, an image outside the allowed
 * set, a weaker seccomp mode, a custom profile path, or limits above the server's maxima
 * (403 naming the option) unless the server's config allows it.
 */
export function applyServerPolicy(request: ExecutionRequest, options: ExecuteOptions | undefined, config: Isol8Config): ExecutionRequest {
  const merged = { ...request, ...(options ?? {}) } as ExecutionRequest & Record<string, unknown>;
  const server = config.server;

  if (merged.network === "host" && !server.allowHostNetwork) refuse("network", "host networking is disabled on this server");
  if (merged.allow?.length && !server.allowClientNetworkPatterns) {
    refuse("allow", "this server decides which hosts the filtered network reaches (network.whitelist)");
  }

  if (merged.image !== undefined) {
    const builtin = RUNTIME_NAMES.some((name) => merged.image === `isol8:${name}`);
    if (!builtin && !server.allowedImages.includes(merged.image)) refuse("image", `"${merged.image}" is not an allowed image`);
  }

  if (merged.security) {
    if (merged.security.customProfilePath !== undefined) refuse("security.customProfilePath", "profiles are chosen by the server");
    const asked = SECCOMP_STRENGTH[merged.security.seccomp as keyof typeof SECCOMP_STRENGTH];
    const own = SECCOMP_STRENGTH[config.security.seccomp];
    if (asked === undefined) return merged; // the request schema reports the bad value
    if (asked < own) refuse("security.seccomp", `"${merged.security.seccomp}" is weaker than this server's "${config.security.seccomp}"`);
    // "strict" (or the server's own mode) runs with the server's settings.
    merged.security = asked === own ? undefined : { seccomp: "strict" };
    if (!merged.security) delete merged.security;
  }

  for (const key of NUMERIC) {
    const value = merged[key];
    const max = server.limits[key] ?? config.defaults[key];
    if (typeof value === "number" && value > max) refuse(key, `${value} is above this server's maximum of ${max}`);
  }
  for (const key of SIZES) {
    const value = merged[key] as Size | undefined;
    if (value === undefined) continue;
    const max = server.limits[key] ?? config.defaults[key];
    const bytes = parseSize(value);
    const maxBytes = parseSize(max);
    if (bytes !== undefined && maxBytes !== undefined && bytes > maxBytes) {
      refuse(key, `${String(value)} is above this server's maximum of ${String(max)}`);
    }
  }
  return merged;
}
