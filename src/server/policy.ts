import type { Isol8Config } from "../config/schema";
import type { ExecutionRequest, IsolationRuntime, SeccompMode } from "../protocol/execution";
import { LIMIT_NAMES, type LimitValues, limitAboveMaximum } from "../protocol/limits";
import { HttpError } from "./http";

const SECCOMP_STRENGTH = { unconfined: 0, custom: 1, strict: 2 } as const;
const ISOLATION_STRENGTH = { runc: 0, gvisor: 1 } as const;

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
 * naming the option) unless the server's config allows it; a limit it leaves out is lowered
 * to the server's maximum when the default is above it. Pure.
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
    const security = { ...clampSeccomp(allowed.security.seccomp, config), ...clampIsolation(allowed.security.runtime, config) };
    if (Object.keys(security).length) allowed.security = security;
    else delete allowed.security;
  }
  const maxima = serverMaxima(config);
  const above = limitAboveMaximum(allowed, maxima);
  if (above) refuse(above.name, `${String(above.value)} is above this server's maximum of ${String(above.max)}`);
  // A limit the client leaves out would run at defaults.*: never above this server's maximum.
  for (const name of LIMIT_NAMES) {
    if (allowed[name] === undefined && limitAboveMaximum({ [name]: config.defaults[name] }, maxima)) Object.assign(allowed, { [name]: maxima[name] });
  }
  return allowed;
}

/** A seccomp mode weaker than the server's is refused; the server's own runs with its settings; a stronger one is "strict". */
function clampSeccomp(asked: SeccompMode | undefined, config: Isol8Config): { seccomp?: SeccompMode } {
  if (asked === undefined) return {};
  const own = config.security.seccomp;
  if (SECCOMP_STRENGTH[asked] < SECCOMP_STRENGTH[own]) refuse("security.seccomp", `"${asked}" is weaker than this server's "${own}"`);
  return SECCOMP_STRENGTH[asked] === SECCOMP_STRENGTH[own] ? {} : { seccomp: "strict" };
}

/** A client may ask for gVisor on any server; a server whose `security.runtime` is "gvisor" refuses runc. */
function clampIsolation(asked: IsolationRuntime | undefined, config: Isol8Config): { runtime?: IsolationRuntime } {
  if (asked === undefined) return {};
  const own = config.security.runtime;
  if (ISOLATION_STRENGTH[asked] < ISOLATION_STRENGTH[own]) refuse("security.runtime", `"${asked}" is weaker than this server's "${own}" (this server requires gVisor)`);
  return asked === own ? {} : { runtime: asked };
}
