// RemoteIsol8's second argument (isol8 0.x: `new RemoteIsol8(remote, { network: "none" })`):
// engine defaults sent with every request. Pure. Only what a request can carry is accepted;
// anything else is an error naming it, never dropped.
import { RequestError } from "../errors";
import { type ExecutionRequest, validateRequest } from "../protocol/execution";
import { LIMIT_NAMES } from "../protocol/limits";

/** Defaults a remote engine can apply: those of the request, plus `networkFilter` (→ allow / deny). */
export type RemoteEngineDefaults = Pick<ExecutionRequest, (typeof LIMIT_NAMES)[number] | "network" | "image" | "security" | "secrets" | "logNetwork"> & {
  networkFilter?: { whitelist?: string[]; blacklist?: string[] };
};

const REQUEST_KEYS: readonly string[] = [...LIMIT_NAMES, "network", "image", "security", "secrets", "logNetwork"];

/** Checks the defaults once (a RequestError names the first bad one) and returns them as request fields. */
export function remoteRequestDefaults(options: Record<string, unknown>): Partial<ExecutionRequest> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (REQUEST_KEYS.includes(key)) fields[key] = value;
    else if (key === "networkFilter" && typeof value === "object" && value !== null) {
      const { whitelist, blacklist, ...other } = value as { whitelist?: string[]; blacklist?: string[] };
      const unknown = Object.keys(other)[0];
      if (unknown) throw new RequestError(`Cannot create RemoteIsol8: unknown option "networkFilter.${unknown}"`, `networkFilter.${unknown}`);
      if (whitelist?.length) fields.allow = whitelist;
      if (blacklist?.length) fields.deny = blacklist;
    } else {
      throw new RequestError(
        `Cannot create RemoteIsol8: option "${key}" does not travel with a request`,
        key,
        `a remote engine takes ${[...REQUEST_KEYS, "networkFilter"].join(", ")}; the rest is the server's configuration`,
      );
    }
  }
  // Validated as a request would be, so a bad value fails here, naming its option.
  validateRequest({ code: "", ...fields, ...(fields.allow || fields.deny || fields.logNetwork ? { network: "filtered" } : {}) });
  return fields;
}

/** A request with the engine's defaults under it: its own fields win, secrets merge. Pure. */
export function withRequestDefaults(request: ExecutionRequest, defaults: Partial<ExecutionRequest>): ExecutionRequest {
  const merged: ExecutionRequest = { ...defaults, ...request };
  if (defaults.secrets && request.secrets) merged.secrets = { ...defaults.secrets, ...request.secrets };
  // Filtered-network settings only for requests on the filtered network (elsewhere they are refused).
  if ((merged.network ?? "none") !== "filtered") {
    for (const key of ["allow", "deny", "logNetwork"] as const) if (request[key] === undefined) delete merged[key];
  }
  return merged;
}
