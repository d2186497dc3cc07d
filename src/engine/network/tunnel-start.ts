/**
 * What an allowed CONNECT tunnel may carry, judged from its first bytes before any of them
 * reach the upstream. A tunnel carries the host it was opened for:
 *
 * - TLS: the ClientHello's server name (SNI), canonicalised like every host, must be the
 *   tunnel's host, even when the other name would itself be allowed (a shared front must not
 *   be asked for another of its hosts). A hello without a server name is accepted only for
 *   an IP-literal destination (which the policy only allows inside `allowedCidrs`); an
 *   encrypted ClientHello (ECH, its drafts, ESNI) hides the real name and is refused, even
 *   when the outer name is the tunnel's: that name is the front's, the one asked for is inside.
 * - plain HTTP/1.x (Node's fetch tunnels http:// URLs): the request's Host must name the
 *   tunnel's host and port; it is then forwarded like an absolute-form request: one
 *   request, re-serialised head, `Connection: close`.
 * - anything else (SSH, SMTP, raw bytes, HTTP/2 prior knowledge) is refused.
 *
 * Pure: the caller holds the bytes, calls this after each read, and acts on the verdict.
 */
import { canonicalHost } from "./address-policy";
import { readClientHello } from "./client-hello";
import { findHeadEnd, parseHead } from "./http-head";
import { parseIpLiteral } from "./ip-address";
import { type HttpRequest, parseTunnelledRequest } from "./proxy-request";

/** The tunnel's destination, canonical (as the policy decided it). */
export interface TunnelTarget {
  host: string;
  port: number;
}

export type TunnelStart =
  | { kind: "pending" }
  /** Relay everything held, then the rest of the connection, byte for byte. */
  | { kind: "tls" }
  /** Forward this one request (its head as judged, then the body after `rest`'s start). */
  | { kind: "http"; request: HttpRequest; rest: Buffer }
  /** Close the tunnel; `reply` is an HTTP status to answer inside it first (the client speaks HTTP). */
  | { kind: "refused"; reason: string; reply?: 400 | 403 | 431 };

const TLS_HANDSHAKE = 22;
const isUpperAscii = (byte: number) => byte >= 0x41 && byte <= 0x5a; // HTTP methods are upper-case tokens

/** Judges the bytes a client sent into a tunnel so far. */
export function inspectTunnelStart(held: Buffer, target: TunnelTarget, maxHeaderBytes: number): TunnelStart {
  if (held.length === 0) return { kind: "pending" };
  if (held[0] === TLS_HANDSHAKE) return inspectTls(held, target);
  if (isUpperAscii(held[0]!)) return inspectHttp(held, target, maxHeaderBytes);
  return { kind: "refused", reason: "the tunnel carries neither TLS nor HTTP/1.x" };
}

function inspectTls(held: Buffer, target: TunnelTarget): TunnelStart {
  const hello = readClientHello(held);
  if (hello.state === "incomplete") return { kind: "pending" };
  if (hello.state === "invalid") return { kind: "refused", reason: `invalid TLS ClientHello: ${hello.reason}` };
  if (hello.encryptedClientHello) return { kind: "refused", reason: "an encrypted TLS ClientHello (ECH) hides the server name" };
  if (hello.serverName === null) {
    if (parseIpLiteral(target.host)) return { kind: "tls" };
    return { kind: "refused", reason: `TLS ClientHello without a server name (SNI) in a tunnel to "${target.host}"` };
  }
  const name = canonicalHost(hello.serverName);
  if (name === null) return { kind: "refused", reason: `TLS server name "${hello.serverName}" is not a valid host name` };
  if (name !== target.host) return { kind: "refused", reason: `TLS server name "${name}" does not match the tunnel's host "${target.host}"` };
  return { kind: "tls" };
}

function inspectHttp(held: Buffer, target: TunnelTarget, maxHeaderBytes: number): TunnelStart {
  const end = findHeadEnd(held);
  if (end === -1 ? held.length > maxHeaderBytes : end > maxHeaderBytes) {
    return { kind: "refused", reason: "request head too large", reply: 431 };
  }
  if (end === -1) return { kind: "pending" };
  const head = parseHead(held.subarray(0, end).toString("latin1"));
  if ("error" in head) return { kind: "refused", reason: head.error, reply: 400 };
  const request = parseTunnelledRequest(head, target);
  if ("status" in request) return { kind: "refused", reason: request.reason, reply: request.status };
  return { kind: "http", request, rest: held.subarray(end) };
}
