// A request for a session (or an event stream) held by another instance: forwarded to that
// instance over HTTP, its answer passed back as it streams. Load-balancer affinity (the
// X-Isol8-Session header, see docs/scale-out.md) normally sends such requests to the right
// instance at once; this covers those that still arrive elsewhere. One hop only: a forwarded
// request that finds the session elsewhere again gets 421 with the owner's URL.
import { HttpError } from "./http";

/** Set on a forwarded request: the instance that forwarded it. */
export const FORWARDED_HEADER = "x-isol8-forwarded-by";
/** Set on every answer that crossed instances: the instance that answered. */
export const INSTANCE_HEADER = "x-isol8-instance";

/** Thrown where a session or stream is found to live on another live instance. */
export class ElsewhereError extends Error {
  constructor(
    readonly what: string,
    readonly instanceId: string,
    readonly url: string | null,
  ) {
    super(`${what} is held by instance ${instanceId}`);
  }
}

/** Connection-level headers a proxy does not pass on (RFC 9110 §7.6.1), and those fetch sets itself. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length", "content-encoding"]);

function copyHeaders(from: Headers): Headers {
  const headers = new Headers();
  for (const [name, value] of from) if (!HOP_BY_HOP.has(name.toLowerCase())) headers.append(name, value);
  return headers;
}

/**
 * Forwards `request` to the instance that holds what it names. `body` is the JSON body when the
 * handler already read it (sent again as JSON); otherwise the unread body streams through.
 */
export async function forwardRequest(request: Request, elsewhere: ElsewhereError, self: string, body: { read: boolean; value: unknown }): Promise<Response> {
  if (request.headers.has(FORWARDED_HEADER) || elsewhere.url === null) {
    const where = elsewhere.url ? ` (${elsewhere.url})` : "";
    throw new HttpError(421, `${elsewhere.what} is held by instance ${elsewhere.instanceId}${where}: send it there (this request was ${elsewhere.url ? "already forwarded once" : "not forwardable"})`, {
      code: "misdirected",
    }, { [INSTANCE_HEADER]: elsewhere.instanceId, ...(elsewhere.url ? { location: elsewhere.url } : {}) });
  }
  const url = new URL(request.url);
  const target = `${elsewhere.url}${url.pathname}${url.search}`;
  const headers = copyHeaders(request.headers);
  headers.set(FORWARDED_HEADER, self);
  const init: RequestInit & { duplex?: "half" } = { method: request.method, headers, signal: request.signal, redirect: "manual" };
  if (body.read) {
    init.body = JSON.stringify(body.value);
    headers.set("content-type", "application/json");
  } else if (request.body !== null && !request.bodyUsed) {
    init.body = request.body;
    init.duplex = "half";
  }
  let answer: Response;
  try {
    answer = await fetch(target, init);
  } catch (error) {
    throw new HttpError(502, `${elsewhere.what} is held by instance ${elsewhere.instanceId}, which did not answer: ${(error as Error).message}`, { code: "unavailable", retryable: true }, { "retry-after": "1" });
  }
  const out = copyHeaders(answer.headers);
  if (!out.has(INSTANCE_HEADER)) out.set(INSTANCE_HEADER, elsewhere.instanceId);
  return new Response(answer.body, { status: answer.status, statusText: answer.statusText, headers: out });
}
