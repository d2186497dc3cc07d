// The routes of the key store: GET /usage for every key (its own usage and limits), and the
// admin routes that manage keys (bootstrap keys only): create (the key is shown once), list,
// revoke, rotate, and a key's usage. `isol8 keys` calls them.
import * as v from "valibot";
import { formatIssues } from "../protocol/issues";
import { CreateKeyBodySchema, KeyIdSchema } from "../protocol/tenancy";
import { principalOfKeyId } from "../store/key-material";
import type { Call, Handler } from "./app";
import { decodePathSegment, HttpError, json } from "./http";
import { keyInfoOf } from "./key-service";
import type { RouteSpec } from "./routes";
import type { Tenancy } from "./tenancy";

function adminOnly(call: Call): void {
  if (!call.caller.admin) throw new HttpError(403, "managing keys needs an admin key (the server's --key or ISOL8_API_KEY)", { code: "forbidden" });
}

function keyIdOfPath(call: Call): string {
  const id = decodePathSegment(call.params.id!, "key id");
  const parsed = v.safeParse(KeyIdSchema, id);
  if (!parsed.success) throw new HttpError(400, formatIssues(parsed.issues).join("\n").replace(/^\(root\)/, "key id"), { field: "id" });
  return parsed.output;
}

export function keyRoutes({ tenancy }: { tenancy: Tenancy }): (RouteSpec & { handler: Handler })[] {
  const store = () => tenancy.keys.store();
  const notFound = (id: string) => new HttpError(404, `key "${id}" not found`);

  const usage: Handler = async (_request, call) => json(200, await tenancy.quotas.usage(call.caller));

  const createKey: Handler = async (_request, call) => {
    adminOnly(call);
    const parsed = v.safeParse(CreateKeyBodySchema, await call.body());
    if (!parsed.success) throw new HttpError(400, formatIssues(parsed.issues).join("\n"));
    const { key, record } = await (await store()).createKey(parsed.output);
    return json(201, { key, info: keyInfoOf(record) }, { "cache-control": "no-store" });
  };

  const listKeys: Handler = async (_request, call) => {
    adminOnly(call);
    return json(200, { keys: (await (await store()).listKeys()).map(keyInfoOf) });
  };

  const revokeKey: Handler = async (_request, call) => {
    adminOnly(call);
    const id = keyIdOfPath(call);
    const record = await (await store()).revokeKey(id);
    tenancy.keys.forget(id);
    if (!record) throw notFound(id);
    return json(200, keyInfoOf(record));
  };

  const rotateKey: Handler = async (_request, call) => {
    adminOnly(call);
    const id = keyIdOfPath(call);
    const rotated = await (await store()).rotateKey(id);
    tenancy.keys.forget(id);
    if (!rotated) throw new HttpError(404, `key "${id}" not found, or revoked`);
    return json(200, { key: rotated.key, info: keyInfoOf(rotated.record) }, { "cache-control": "no-store" });
  };

  const keyUsage: Handler = async (_request, call) => {
    adminOnly(call);
    const id = keyIdOfPath(call);
    const record = await (await store()).findKey(id);
    if (!record) throw notFound(id);
    const caller = { principal: principalOfKeyId(id), admin: false, keyId: id, policy: record.policy, quotas: record.quotas };
    return json(200, await tenancy.quotas.usage(caller));
  };

  return [
    { method: "GET", path: "/usage", handler: usage },
    { method: "GET", path: "/keys", handler: listKeys },
    { method: "POST", path: "/keys", handler: createKey },
    { method: "DELETE", path: "/keys/{id}", handler: revokeKey },
    { method: "POST", path: "/keys/{id}/rotate", handler: rotateKey },
    { method: "GET", path: "/keys/{id}/usage", handler: keyUsage },
  ];
}
