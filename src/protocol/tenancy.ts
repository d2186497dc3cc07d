// API keys of the key store, as the HTTP API and the CLI speak of them: a key's policy (what
// its holder may ask for, always within the server's own policy), its quotas, the bodies of the
// admin routes and the answers of `/keys` and `/usage`. One home for these shapes: the server
// validates with them, `isol8 keys` sends them, the OpenAPI document shows them.
import * as v from "valibot";
import { NETWORK_MODES, SECCOMP_MODES } from "./execution";
import { optionalLimitEntries } from "./limits";

const d = <S extends v.GenericSchema>(schema: S, text: string) => v.pipe(schema, v.description(text));
const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));

/**
 * What a key's holder may ask for. Every field narrows the server's policy (`server.*`); none can
 * widen it: a key that says `allowInstalls: true` on a server without installs still has none.
 * An absent field leaves the server's policy as it is.
 */
export const KeyPolicySchema = v.strictObject({
  limits: v.optional(d(v.strictObject(optionalLimitEntries()), "Highest limits this key may ask for (below the server's server.limits.* / defaults.*)")),
  networks: v.optional(
    d(v.pipe(v.array(v.picklist(NETWORK_MODES)), v.minLength(1, "at least one mode")), "Network modes this key may run with (host only where the server allows it)"),
  ),
  allowClientNetworkPatterns: v.optional(d(v.boolean(), "May widen the filtered network with its own allow patterns (only where the server allows it)")),
  allowInstalls: v.optional(d(v.boolean(), "May install packages (only where the server allows it)")),
  allowedImages: v.optional(d(v.array(v.string()), "Images this key may ask for besides the built-in ones (only those the server allows too)")),
  seccomp: v.optional(d(v.picklist(SECCOMP_MODES), "The weakest seccomp mode this key may run under (strict: always the strict allowlist)")),
});
export type KeyPolicy = v.InferOutput<typeof KeyPolicySchema>;

/** How much a key may use. An absent quota is unlimited (the server's own caps still hold). */
export const KeyQuotasSchema = v.strictObject({
  maxConcurrent: v.optional(d(positiveInt, "Executions running at once, counted across every instance")),
  requestsPerMinute: v.optional(d(positiveInt, "Requests per minute (a token bucket holding a minute's worth), across every instance")),
  cpuSecondsPerDay: v.optional(d(positiveInt, "CPU seconds of executions per UTC day (from each result's resourceUsage.cpuTimeMs)")),
  maxSessions: v.optional(d(positiveInt, "Sessions at once, across every instance")),
});
export type KeyQuotas = v.InferOutput<typeof KeyQuotasSchema>;
export type QuotaName = keyof KeyQuotas;
export const QUOTA_NAMES = ["maxConcurrent", "requestsPerMinute", "cpuSecondsPerDay", "maxSessions"] as const satisfies readonly QuotaName[];

const KeyNameSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.@-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 _ . @ -"));
/** A key's public id: shown in listings, audit records and logs; never enough to use the key. */
export const KeyIdSchema = v.pipe(v.string(), v.regex(/^[a-z0-9]{10}$/, "a key id: 10 characters of a-z 0-9"));

/** `POST /keys` */
export const CreateKeyBodySchema = v.strictObject({
  name: KeyNameSchema,
  policy: v.optional(KeyPolicySchema, {}),
  quotas: v.optional(KeyQuotasSchema, {}),
});
export type CreateKeyBody = v.InferOutput<typeof CreateKeyBodySchema>;

/** A key as listed: everything but the key itself (which only its creation and rotation show, once). */
export const KeyInfoSchema = v.object({
  id: d(v.string(), "The public id (also the audit records' principal: key:<id>)"),
  name: v.string(),
  policy: KeyPolicySchema,
  quotas: KeyQuotasSchema,
  createdAt: v.string(),
  rotatedAt: v.nullable(v.string()),
  revokedAt: v.nullable(v.string()),
});
export type KeyInfo = v.InferOutput<typeof KeyInfoSchema>;

export const KeyListSchema = v.object({ keys: v.array(KeyInfoSchema) });

/** The answer of `POST /keys` and `POST /keys/{id}/rotate`: the key, shown this once. */
export const IssuedKeySchema = v.object({
  key: d(v.string(), "The API key: store it now, the server keeps only its hash"),
  info: KeyInfoSchema,
});
export type IssuedKey = v.InferOutput<typeof IssuedKeySchema>;

const nullableCount = (text: string) => d(v.nullable(v.number()), text);

/** `GET /usage` (the caller's) and `GET /keys/{id}/usage`: what a key uses now and its limits. */
export const UsageSchema = v.object({
  principal: d(v.string(), "key:<id>"),
  admin: d(v.boolean(), "A bootstrap key (--key / ISOL8_API_KEY): no quotas, sees every session"),
  day: d(v.string(), "The UTC day cpuSeconds counts (YYYY-MM-DD)"),
  usage: v.object({
    concurrent: d(v.number(), "Executions running now, on every instance"),
    sessions: d(v.number(), "Sessions now, on every instance"),
    cpuSeconds: d(v.number(), "CPU seconds used today"),
    executions: d(v.number(), "Executions today"),
    requestsLeft: nullableCount("Requests the rate quota allows now (null: no rate quota)"),
  }),
  quotas: KeyQuotasSchema,
  policy: KeyPolicySchema,
});
export type Usage = v.InferOutput<typeof UsageSchema>;
