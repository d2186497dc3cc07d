// `isol8 keys create` flags → the body of POST /keys (name, policy, quotas). Pure; the server
// validates the body again (and a key's policy can only narrow the server's anyway).
import type { ArgsDef } from "citty";
import * as v from "valibot";
import { UsageError } from "../../errors";
import { formatIssues } from "../../protocol/issues";
import { LIMIT_NAMES, LIMITS } from "../../protocol/limits";
import { type CreateKeyBody, CreateKeyBodySchema } from "../../protocol/tenancy";

/** Quota flags: flag → quota name. */
const QUOTA_FLAGS = {
  "max-concurrent": "maxConcurrent",
  "requests-per-minute": "requestsPerMinute",
  "cpu-seconds-per-day": "cpuSecondsPerDay",
  "max-sessions": "maxSessions",
} as const;

/** The limit flags of `isol8 run` (--timeout, --memory, ...): here, the key's maxima. */
const limitArgs = Object.fromEntries(
  LIMIT_NAMES.map((name) => [LIMITS[name].flag, { type: "string", description: `Highest ${name} this key may ask for (below the server's)` }]),
) as Record<string, { type: "string"; description: string }>;

export const keyPolicyArgs = {
  name: { type: "string", description: "create: the key's name (1-64 of A-Z a-z 0-9 _ . @ -)" },
  "max-concurrent": { type: "string", description: "Quota: executions running at once, on every instance together" },
  "requests-per-minute": { type: "string", description: "Quota: requests per minute (token bucket), on every instance together" },
  "cpu-seconds-per-day": { type: "string", description: "Quota: CPU seconds of executions per UTC day" },
  "max-sessions": { type: "string", description: "Quota: sessions at once" },
  network: { type: "string", description: "Policy: a network mode this key may use: none | filtered | host (repeatable)" },
  image: { type: "string", description: "Policy: an image this key may ask for besides the built-in ones (repeatable; the server must allow it too)" },
  installs: { type: "boolean", description: "Policy: --no-installs: this key may not install packages" },
  "network-patterns": { type: "boolean", description: "Policy: --no-network-patterns: this key may not widen the filtered network" },
  seccomp: { type: "string", description: "Policy: the weakest seccomp mode this key may run under (strict: always strict)" },
  ...limitArgs,
} as const satisfies ArgsDef;

export const KEY_POLICY_REPEATABLE = ["network", "image"] as const;

type Flags = Record<string, string | string[] | boolean | undefined>;

function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`Cannot use --${flag} "${text}": expected a whole number of at least 1`);
  return n;
}

/** The POST /keys body the flags state. */
export function keyFromFlags(flags: Flags): CreateKeyBody {
  if (typeof flags.name !== "string") throw new UsageError("Cannot create a key without a name", "pass --name <name>, e.g. --name team-a");
  const quotas: Record<string, number> = {};
  for (const [flag, quota] of Object.entries(QUOTA_FLAGS)) {
    const text = flags[flag];
    if (typeof text === "string") quotas[quota] = positiveInteger(flag, text);
  }
  const limits: Record<string, unknown> = {};
  for (const name of LIMIT_NAMES) {
    const limit = LIMITS[name] as { flag: string; fromFlag(text: string): unknown };
    const text = flags[limit.flag];
    if (typeof text !== "string") continue;
    const value = limit.fromFlag(text);
    if (value === undefined) throw new UsageError(`Cannot use --${limit.flag} "${text}": not a ${name} value`);
    limits[name] = value;
  }
  const policy: Record<string, unknown> = {};
  if (Object.keys(limits).length) policy.limits = limits;
  const networks = flags.network as string[] | undefined;
  if (networks?.length) policy.networks = [...new Set(networks)];
  const images = flags.image as string[] | undefined;
  if (images?.length) policy.allowedImages = [...new Set(images)];
  if (flags.installs === false) policy.allowInstalls = false;
  if (flags["network-patterns"] === false) policy.allowClientNetworkPatterns = false;
  if (typeof flags.seccomp === "string") policy.seccomp = flags.seccomp;
  const parsed = v.safeParse(CreateKeyBodySchema, { name: flags.name, policy, quotas });
  if (!parsed.success) throw new UsageError(`Cannot create key "${flags.name}": ${formatIssues(parsed.issues).join("; ")}`);
  return parsed.output;
}
