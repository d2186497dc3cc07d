// The key store's routes over HTTP, with an admin (bootstrap) key: what `isol8 keys` calls.
// Plain fetch, like RemoteIsol8; failures are RemoteErrors with the server's message.
import * as v from "valibot";
import { parseErrorBody } from "../protocol/errors";
import { type CreateKeyBody, type IssuedKey, IssuedKeySchema, type KeyInfo, KeyInfoSchema, KeyListSchema, type Usage, UsageSchema } from "../protocol/tenancy";
import { RemoteError } from "./remote";

export interface KeysClientOptions {
  host: string;
  /** An admin key of the server (its --key / ISOL8_API_KEY); for usage(), any key. */
  apiKey: string;
  fetch?: typeof fetch;
}

export interface KeysClient {
  create(body: CreateKeyBody): Promise<IssuedKey>;
  list(): Promise<KeyInfo[]>;
  revoke(id: string): Promise<KeyInfo>;
  rotate(id: string): Promise<IssuedKey>;
  /** A key's usage (admin), or the caller's own without an id. */
  usage(id?: string): Promise<Usage>;
}

export function createKeysClient(options: KeysClientOptions): KeysClient {
  const base = options.host.replace(/\/+$/, "");
  const fetchImpl = options.fetch ?? fetch;
  async function call<S extends v.GenericSchema>(action: string, method: string, path: string, schema: S, body?: unknown): Promise<v.InferOutput<S>> {
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.apiKey}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new RemoteError(0, `Cannot ${action}: the server at "${base}" does not answer (${(error as Error).message})`, "check --host and that isol8 serve runs");
    }
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = parseErrorBody(answer);
      const hint = detail?.code === "forbidden" || detail?.code === "unauthorized" ? "pass an admin key of the server (its --key or ISOL8_API_KEY) with --key" : undefined;
      throw new RemoteError(response.status, `Cannot ${action}: HTTP ${response.status}: ${detail?.message ?? response.statusText}`, hint, detail?.code);
    }
    const parsed = v.safeParse(schema, answer);
    if (!parsed.success) throw new RemoteError(response.status, `Cannot ${action}: the server's answer is not what isol8 expects`, "is the server an isol8 of the same version?");
    return parsed.output;
  }
  const path = (id: string) => `/keys/${encodeURIComponent(id)}`;
  return {
    create: (body) => call(`create key "${body.name}"`, "POST", "/keys", IssuedKeySchema, body),
    list: async () => (await call("list keys", "GET", "/keys", KeyListSchema)).keys,
    revoke: (id) => call(`revoke key "${id}"`, "DELETE", path(id), KeyInfoSchema),
    rotate: (id) => call(`rotate key "${id}"`, "POST", `${path(id)}/rotate`, IssuedKeySchema),
    usage: (id) => (id === undefined ? call("read usage", "GET", "/usage", UsageSchema) : call(`read the usage of key "${id}"`, "GET", `${path(id)}/usage`, UsageSchema)),
  };
}
