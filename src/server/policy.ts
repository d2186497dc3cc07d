import type { Isol8Config } from "../config/schema";
import type { ExecutionRequest } from "../protocol/execution";
import { LIMIT_NAMES, type LimitValues, limitAboveMaximum } from "../protocol/limits";
import { HttpError } from "./http";

const SECCOMP_STRENGTH = { unconfined: 0, custom: 1, strict: 2 } as const;

/** What a server holds its clients to: its config, and the images it builds itself. */
export interface ServerPolicy {
  config: Isol8Config;
  /** The built-in runtime images (always allowed). */
  builtinImages: readonly string[];
}

function refuse(option: string, why: string): never {
  throw new HttpError(403, `option "${option}" is not allowed: ${why}`, { code: "policy-denied", field: option });
}

/** The highest value of each limit a client may ask for: `server.limits.*`, else `defaults.*`. */
export function serverMaxima(config: Isol8Config): LimitValues {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [name, config.server.limits[name] ?? config.defaults[name]])) as LimitValues;
}

/**
 * The request a client may run, checked against the server's policy. A client cannot choose
 * host networking, an image outside the allowed set, a weaker seccomp mode, a custom profile
 * path, its own allow patterns, package installs, or limits above the server's maxima (403
 * naming the option) unless the server's config allows it. Pure.
 */
export function applyServerPolicy(request: ExecutionRequest, policy: ServerPolicy): ExecutionRequest {
  const { config } = policy;
  const server = config.server;
  const allowed = { ...request };

  if (allowed.network === "host" && !server.allowHostNetwork) refuse("network", "host networking is disabled on this server");
  if (allowed.allow?.length && !server.allowClientNetworkPatterns) {
    refuse("allow", "this server decides which hosts the filtered network reaches (network.whitelist)");
  }
  // An install reaches the runtime's package registries (outside network.whitelist) and runs
  // the packages' install scripts there: the operator opts in.
  if (allowed.installPackages?.length && !server.allowInstalls) refuse("installPackages", "installs are disabled on this server (server.allowInstalls)");
  if (allowed.image !== undefined && !policy.builtinImages.includes(allowed.image) && !server.allowedImages.includes(allowed.image)) {
    refuse("image", `"${allowed.image}" is not an allowed image`);
  }
  if (allowed.security) {
    if (allowed.security.customProfilePath !== undefined) refuse("security.customProfilePath", "profiles are chosen by the server");
    const asked = SECCOMP_STRENGTH[allowed.security.seccomp];
    const own = SECCOMP_STRENGTH[config.security.seccomp];
    if (asked < own) refuse("security.seccomp", `"${allowed.security.seccomp}" is weaker than this server's "${config.security.seccomp}"`);
    // The server's own mode runs with the server's settings; a stronger one is "strict".
    if (asked === own) delete allowed.security;
    else allowed.security = { seccomp: "strict" };
  }
  const above = limitAboveMaximum(allowed, serverMaxima(config));
  if (above) refuse(above.name, `${String(above.value)} is above this server's maximum of ${String(above.max)}`);
  return allowed;
}
