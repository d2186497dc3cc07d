import type { Isol8Config } from "../config/schema";
import { type ExecutionRequest, type IsolationRuntime, NETWORK_MODES, type NetworkMode, type SeccompMode } from "../protocol/execution";
import { LIMIT_NAMES, LIMITS, type LimitValues, limitAboveMaximum } from "../protocol/limits";
import type { KeyPolicy } from "../protocol/tenancy";
import { HttpError } from "./http";

const SECCOMP_STRENGTH = { unconfined: 0, custom: 1, strict: 2 } as const;
const ISOLATION_STRENGTH = { runc: 0, gvisor: 1 } as const;

/**
 * What a client may ask for: the server's clamps (`server.*`), possibly narrowed by its key's
 * policy (`narrow`). Every field only ever shrinks from the server's to a key's.
 */
export interface Clamps {
  /** The highest value of each limit. */
  limits: LimitValues;
  /** Network modes a request may run with (asked for, or the server's default). */
  networks: readonly NetworkMode[];
  allowClientNetworkPatterns: boolean;
  allowInstalls: boolean;
  /** Images beyond the built-in ones. */
  allowedImages: readonly string[];
  /** The weakest seccomp mode an execution may run under. */
  seccomp: SeccompMode;
  /** Whose policy this is, for refusals ("this server's" or "this key's"). */
  of: "server" | "key";
}

/** What a server holds its clients to: its config, the images it builds itself, and (for a store key) the narrowed clamps. */
export interface ServerPolicy {
  config: Isol8Config;
  /** The built-in runtime images (always allowed). */
  builtinImages: readonly string[];
  /** The caller's clamps (default: the server's own, `serverClamps(config)`). */
  clamps?: Clamps;
}

function refuse(option: string, why: string): never {
  throw new HttpError(403, `option "${option}" is not allowed: ${why}`, { code: "policy-denied", field: option });
}

/** The highest value of each limit a client may ask for: `server.limits.*`, else `defaults.*`. */
export function serverMaxima(config: Isol8Config): LimitValues {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [name, config.server.limits[name] ?? config.defaults[name]])) as LimitValues;
}

/** The server's own clamps, from its config. Pure. */
export function serverClamps(config: Isol8Config): Clamps {
  const server = config.server;
  return {
    limits: serverMaxima(config),
    // The server's default network is its own choice: a request may always name it.
    networks: NETWORK_MODES.filter((mode) => mode !== "host" || server.allowHostNetwork || config.defaults.network === "host"),
    allowClientNetworkPatterns: server.allowClientNetworkPatterns,
    allowInstalls: server.allowInstalls,
    allowedImages: server.allowedImages,
    seccomp: config.security.seccomp,
    of: "server",
  };
}

/** The lower of two values of a limit (by magnitude: bytes for sizes). */
function lowerLimit(name: keyof LimitValues, a: unknown, b: unknown): unknown {
  const limit = LIMITS[name] as { magnitude(value: unknown): number };
  return limit.magnitude(b) < limit.magnitude(a) ? b : a;
}

/**
 * The clamps of a key: the server's, narrowed by the key's policy. Pure, and it can only narrow:
 * a key's `true` never turns on what the server has off, its limits never exceed the server's,
 * its images and networks are kept only where the server allows them too, and its seccomp
 * minimum only ever moves towards strict.
 */
export function narrow(clamps: Clamps, policy: KeyPolicy): Clamps {
  const limits = { ...clamps.limits } as Record<string, unknown>;
  for (const name of LIMIT_NAMES) {
    const own = policy.limits?.[name];
    if (own !== undefined) limits[name] = lowerLimit(name, clamps.limits[name], own);
  }
  const seccomp = policy.seccomp && SECCOMP_STRENGTH[policy.seccomp] > SECCOMP_STRENGTH[clamps.seccomp] ? policy.seccomp : clamps.seccomp;
  return {
    limits: limits as LimitValues,
    networks: policy.networks ? clamps.networks.filter((mode) => policy.networks!.includes(mode)) : clamps.networks,
    allowClientNetworkPatterns: clamps.allowClientNetworkPatterns && (policy.allowClientNetworkPatterns ?? true),
    allowInstalls: clamps.allowInstalls && (policy.allowInstalls ?? true),
    allowedImages: policy.allowedImages ? clamps.allowedImages.filter((image) => policy.allowedImages!.includes(image)) : clamps.allowedImages,
    seccomp,
    of: "key",
  };
}

/**
 * The request a client may run, checked against its clamps (the server's policy, or its key's
 * narrower one). A client cannot choose a network mode outside the clamps (host networking
 * unless the server allows it), an image outside the allowed set, a weaker seccomp mode, a
 * custom profile path, its own allow patterns, package installs, or limits above the maxima
 * (403 naming the option); a limit it leaves out is lowered to the maximum when the default is
 * above it. Pure.
 */
export function applyServerPolicy(request: ExecutionRequest, policy: ServerPolicy): ExecutionRequest {
  const { config } = policy;
  const clamps = policy.clamps ?? serverClamps(config);
  const whose = clamps.of === "server" ? "this server" : "this key";
  const allowed = { ...request };

  const network = allowed.network ?? config.defaults.network;
  if (!clamps.networks.includes(network)) {
    const why = network === "host" && !config.server.allowHostNetwork ? "host networking is disabled on this server" : `${whose} may use ${clamps.networks.join(", ") || "no network mode"}`;
    refuse("network", why);
  }
  if (allowed.allow?.length && !clamps.allowClientNetworkPatterns) {
    refuse("allow", `${whose} decides which hosts the filtered network reaches (network.whitelist)`);
  }
  // An install reaches the runtime's package registries (outside network.whitelist) and runs
  // the packages' install scripts there: the operator opts in.
  if (allowed.installPackages?.length && !clamps.allowInstalls) {
    refuse("installPackages", clamps.of === "server" || !config.server.allowInstalls ? "installs are disabled on this server (server.allowInstalls)" : "installs are disabled for this key");
  }
  if (allowed.image !== undefined && !policy.builtinImages.includes(allowed.image) && !clamps.allowedImages.includes(allowed.image)) {
    refuse("image", `"${allowed.image}" is not an allowed image`);
  }
  const own = config.security.seccomp;
  if (allowed.security) {
    if (allowed.security.customProfilePath !== undefined) refuse("security.customProfilePath", "profiles are chosen by the server");
    const security = { ...clampSeccomp(allowed.security.seccomp, clamps, own, whose), ...clampIsolation(allowed.security.runtime, config) };
    if (Object.keys(security).length) allowed.security = security;
    else delete allowed.security;
  }
  if (allowed.security?.seccomp === undefined && SECCOMP_STRENGTH[own] < SECCOMP_STRENGTH[clamps.seccomp]) {
    // A key held to a stronger mode than the server's own: its executions run strict.
    allowed.security = { ...allowed.security, seccomp: "strict" };
  }
  const above = limitAboveMaximum(allowed, clamps.limits);
  if (above) refuse(above.name, `${String(above.value)} is above ${whose}'s maximum of ${String(above.max)}`);
  // A limit the client leaves out would run at defaults.*: never above the maximum.
  for (const name of LIMIT_NAMES) {
    if (allowed[name] === undefined && limitAboveMaximum({ [name]: config.defaults[name] }, clamps.limits)) Object.assign(allowed, { [name]: clamps.limits[name] });
  }
  return allowed;
}

/** A seccomp mode weaker than the clamps' is refused; the server's own runs with its settings; a stronger one is "strict". */
function clampSeccomp(asked: SeccompMode | undefined, clamps: Clamps, own: SeccompMode, whose: string): { seccomp?: SeccompMode } {
  if (asked === undefined) return {};
  if (SECCOMP_STRENGTH[asked] < SECCOMP_STRENGTH[clamps.seccomp]) refuse("security.seccomp", `"${asked}" is weaker than ${whose}'s "${clamps.seccomp}"`);
  return asked === own ? {} : { seccomp: "strict" };
}

/** A client may ask for gVisor on any server; a server whose `security.runtime` is "gvisor" refuses runc. */
function clampIsolation(asked: IsolationRuntime | undefined, config: Isol8Config): { runtime?: IsolationRuntime } {
  if (asked === undefined) return {};
  const own = config.security.runtime;
  if (ISOLATION_STRENGTH[asked] < ISOLATION_STRENGTH[own]) refuse("security.runtime", `"${asked}" is weaker than this server's "${own}" (this server requires gVisor)`);
  return asked === own ? {} : { runtime: asked };
}

/**
 * What the policy lets a client choose (for the MCP tools' schemas): network modes, its own
 * allow patterns, installs, and the highest timeout.
 */
export function policyOffers(config: Isol8Config): {
  networkModes: ("none" | "filtered" | "host")[];
  allowPatterns: boolean;
  installs: boolean;
  maxTimeoutMs: number;
} {
  const server = config.server;
  return {
    networkModes: ["none", "filtered", ...(server.allowHostNetwork ? (["host"] as const) : [])],
    allowPatterns: server.allowClientNetworkPatterns,
    installs: server.allowInstalls,
    maxTimeoutMs: serverMaxima(config).timeoutMs,
  };
}
