// The engine defaults DockerIsol8 takes at the top level (the call shape of isol8 0.x:
// `new DockerIsol8({ network: "filtered", memoryLimit: "256m", secrets })`), mapped onto the
// configuration or kept for every request. Pure: every key is known, and an unknown one is an
// error naming it, never ignored.
import * as v from "valibot";
import type { Isol8ConfigInput } from "../config/schema";
import { deepMerge } from "../config/merge";
import { RequestError } from "../errors";
import { ExecutionRequestSchema, NETWORK_MODES } from "../protocol/execution";
import { formatIssues } from "../protocol/issues";
import { LIMIT_NAMES, optionalLimitEntries } from "../protocol/limits";

/** Keys of `audit` that are I/O (the rest is the config's `audit` section). */
const AUDIT_IO_KEYS = ["write", "onError", "now"] as const;

/** Engine defaults stated at the top level; each is also a config key or a request field. */
export const EngineDefaultsSchema = v.strictObject({
  ...optionalLimitEntries(),
  network: v.optional(v.picklist(NETWORK_MODES)),
  networkFilter: v.optional(
    v.strictObject({ whitelist: v.optional(v.array(v.string())), blacklist: v.optional(v.array(v.string())) }),
  ),
  ...v.pick(ExecutionRequestSchema, ["secrets", "logNetwork", "image"]).entries,
  /** isol8 0.x's option; the root filesystem is always read-only here, so only `true` is accepted. */
  readonlyRootFs: v.optional(v.literal(true, "must be true: the root filesystem of a sandbox is always read-only")),
  debug: v.optional(v.boolean()),
});

/** The config keys the top level may set, passed on to the config's own validation. */
const CONFIG_KEYS = ["security", "poolStrategy", "poolSize", "maxConcurrent"] as const;

/** The options that are neither defaults nor config (DockerIsol8Options' own). */
export const ENGINE_OWN_KEYS = [
  "mode",
  "pool",
  "runtime",
  "config",
  "docker",
  "runtimes",
  "log",
  "onImageProgress",
  "persist",
  "removeInBackground",
  "scope",
  "owner",
  "cacheDir",
  "imageRepository",
  "observe",
] as const;

export const ENGINE_DEFAULT_KEYS = [...Object.keys(EngineDefaultsSchema.entries), ...CONFIG_KEYS, "audit"] as const;

/** What every request of the engine gets unless it says otherwise. */
export interface RequestDefaults {
  /** Merged under each request's own secrets. */
  secrets?: Record<string, string>;
  /** For requests that run on the filtered network and do not say. */
  logNetwork?: boolean;
  /** For requests that name no image. */
  image?: string;
}

export interface ResolvedEngineOptions {
  /** The configuration with the top-level defaults merged over `config`. */
  config: unknown;
  request: RequestDefaults;
  debug: boolean;
  /** The I/O part of `audit`, if any. */
  auditIo?: Record<string, unknown>;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/**
 * Splits top-level options into config, request defaults and debug. Throws a RequestError
 * naming the first unknown or invalid option.
 */
export function resolveEngineOptions(options: Record<string, unknown>, config: unknown = {}): ResolvedEngineOptions {
  const known = new Set<string>([...ENGINE_OWN_KEYS, ...ENGINE_DEFAULT_KEYS]);
  for (const key of Object.keys(options)) {
    if (!known.has(key) && options[key] !== undefined) {
      throw new RequestError(`Cannot create the engine: unknown option "${key}"`, key, `known options: ${[...known].join(", ")}`);
    }
  }
  const picked = Object.fromEntries(Object.keys(EngineDefaultsSchema.entries).filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
  const parsed = v.safeParse(EngineDefaultsSchema, picked);
  if (!parsed.success) {
    const field = v.getDotPath(parsed.issues[0]!) ?? "options";
    throw new RequestError(`Cannot create the engine: ${formatIssues(parsed.issues).join("; ")}`, field);
  }
  const d = parsed.output;
  const defaults = Object.fromEntries(
    [...LIMIT_NAMES, "network"].filter((k) => (d as Record<string, unknown>)[k] !== undefined).map((k) => [k, (d as Record<string, unknown>)[k]]),
  );
  let audit: Record<string, unknown> | undefined;
  let auditIo: Record<string, unknown> | undefined;
  if (options.audit !== undefined) {
    if (!isObject(options.audit)) throw new RequestError("Cannot create the engine: audit: expected an object", "audit");
    const entries = Object.entries(options.audit);
    auditIo = Object.fromEntries(entries.filter(([k]) => (AUDIT_IO_KEYS as readonly string[]).includes(k)));
    audit = Object.fromEntries(entries.filter(([k]) => !(AUDIT_IO_KEYS as readonly string[]).includes(k)));
  }
  const overlay: Isol8ConfigInput & Record<string, unknown> = {
    ...(Object.keys(defaults).length ? { defaults } : {}),
    ...(d.networkFilter
      ? { network: { ...(d.networkFilter.whitelist ? { whitelist: d.networkFilter.whitelist } : {}), ...(d.networkFilter.blacklist ? { blacklist: d.networkFilter.blacklist } : {}) } }
      : {}),
    ...Object.fromEntries(CONFIG_KEYS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]])),
    ...(audit && Object.keys(audit).length ? { audit } : {}),
  };
  const request: RequestDefaults = {
    ...(d.secrets ? { secrets: d.secrets } : {}),
    ...(d.logNetwork !== undefined ? { logNetwork: d.logNetwork } : {}),
    ...(d.image !== undefined ? { image: d.image } : {}),
  };
  return {
    config: Object.keys(overlay).length ? deepMerge(config, overlay) : config,
    request,
    debug: d.debug ?? false,
    ...(auditIo && Object.keys(auditIo).length ? { auditIo } : {}),
  };
}
