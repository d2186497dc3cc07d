/**
 * What a client asked the proxy for: `CONNECT host:port` or an absolute-form plain-HTTP
 * request, with the host canonicalised, the Host header checked against the target, and
 * the body framing decided (so exactly one request is forwarded: nothing smuggled after it).
 */
import { canonicalHost } from "./address-policy";
import { endToEndHeaders, type Head, type Header, headerValues, serializeHead } from "./http-head";

export type BodyFraming = { type: "none" } | { type: "length"; length: number } | { type: "chunked" };

/** The fields a log entry needs, known once the request line is understood. */
export interface RequestSummary {
  method: string;
  host: string;
  port: number;
  /** Origin-form path with query; null for CONNECT. */
  path: string | null;
}

/** A plain HTTP request to forward: exactly one, with its body framing decided. */
export type HttpRequest = RequestSummary & { kind: "http"; path: string; version: string; headers: Header[]; body: BodyFraming };

export type ProxyRequest = (RequestSummary & { kind: "connect"; path: null }) | HttpRequest;

/** A request the proxy refuses before any policy decision; `request` is set when the target was understood. */
export interface RequestFailure {
  status: 400 | 403;
  reason: string;
  request?: RequestSummary;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isRequestFailure(value: ProxyRequest | RequestFailure): value is RequestFailure {
  return "status" in value;
}

/** Interprets a parsed request head. */
export function parseProxyRequest(head: Head): ProxyRequest | RequestFailure {
  const parts = head.startLine.split(" ");
  const [method = "", target = "", version = ""] = parts;
  if (parts.length !== 3 || !TOKEN.test(method) || !/^HTTP\/1\.[01]$/.test(version)) {
    return { status: 400, reason: "malformed request line" };
  }
  if (method === "CONNECT") {
    const authority = splitAuthority(target, null);
    if (!authority) return { status: 400, reason: "CONNECT needs a host:port target" };
    return { kind: "connect", method, ...authority, path: null };
  }
  if (target.startsWith("/") || target === "*") {
    return { status: 400, reason: "origin-form request: send the absolute URL (http://host/path) or use CONNECT" };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(target)?.[1]?.toLowerCase();
  if (scheme !== "http") {
    return { status: 400, reason: scheme === "https" ? "https URLs go through CONNECT" : "only http:// URLs are proxied" };
  }
  const rest = target.slice("http://".length);
  const end = rest.search(/[/?#]/);
  const authorityText = end === -1 ? rest : rest.slice(0, end);
  if (authorityText.includes("@")) return { status: 400, reason: "credentials in the URL are not supported" };
  const authority = splitAuthority(authorityText, 80);
  if (!authority) return { status: 400, reason: "invalid host in the request target" };
  let path = (end === -1 ? "" : rest.slice(end)).replace(/#.*$/, "");
  if (!path.startsWith("/")) path = `/${path}`;
  const request = { method, ...authority, path };

  const hostHeaders = headerValues(head.headers, "host");
  if (hostHeaders.length > 1) return { status: 400, reason: "more than one Host header", request };
  if (hostHeaders.length === 0 && version === "HTTP/1.1") return { status: 400, reason: "missing Host header", request };
  if (hostHeaders.length === 1) {
    const claimed = splitAuthority(hostHeaders[0]!, 80);
    if (!claimed || claimed.host !== authority.host || claimed.port !== authority.port) {
      return { status: 403, reason: "Host header does not match the request target", request };
    }
  }
  const body = bodyFraming(head.headers, version);
  if ("error" in body) return { status: 400, reason: body.error, request };
  return { kind: "http", ...request, version, headers: head.headers, body };
}

/**
 * Interprets the head of a plain HTTP request sent inside a CONNECT tunnel to `target`
 * (clients such as Node's fetch tunnel http:// URLs too): origin-form only, and the Host
 * header must name the tunnel's host and port, so a tunnel opened for one host cannot carry
 * a request for another. The result is forwarded like an absolute-form request.
 */
export function parseTunnelledRequest(head: Head, target: { host: string; port: number }): HttpRequest | RequestFailure {
  const parts = head.startLine.split(" ");
  const [method = "", path = "", version = ""] = parts;
  const request = { method, host: target.host, port: target.port, path: null };
  if (parts.length !== 3 || !TOKEN.test(method) || !/^HTTP\/1\.[01]$/.test(version)) {
    return { status: 400, reason: "malformed request line in the tunnel", request };
  }
  if (method === "CONNECT") return { status: 400, reason: "CONNECT inside a tunnel", request };
  if (!path.startsWith("/")) return { status: 400, reason: "a request inside a tunnel must use origin-form (/path)", request };
  const hostHeaders = headerValues(head.headers, "host");
  if (hostHeaders.length > 1) return { status: 400, reason: "more than one Host header", request };
  if (hostHeaders.length === 0 && version === "HTTP/1.1") return { status: 400, reason: "missing Host header", request };
  if (hostHeaders.length === 1) {
    const claimed = splitAuthority(hostHeaders[0]!, 80);
    if (!claimed || claimed.host !== target.host || claimed.port !== target.port) {
      return { status: 403, reason: `Host header "${hostHeaders[0]}" does not match the tunnel's host "${formatAuthority(target.host, target.port, 80)}"`, request };
    }
  }
  const body = bodyFraming(head.headers, version);
  if ("error" in body) return { status: 400, reason: body.error, request };
  return { kind: "http", method, host: target.host, port: target.port, path: path.replace(/#.*$/, ""), version, headers: head.headers, body };
}

/** The head sent upstream: origin-form, canonical Host, end-to-end headers only, normalised framing, `Connection: close`. */
export function upstreamRequestHead(request: HttpRequest): Buffer {
  const headers = endToEndHeaders(request.headers, ["host", "content-length", "transfer-encoding"]);
  const framing: Header[] =
    request.body.type === "length"
      ? [["Content-Length", String(request.body.length)]]
      : request.body.type === "chunked"
        ? [["Transfer-Encoding", "chunked"]]
        : [];
  return serializeHead(`${request.method} ${request.path} ${request.version}`, [
    ["Host", formatAuthority(request.host, request.port, 80)],
    ...headers,
    ...framing,
    ["Connection", "close"],
  ]);
}

/** `host[:port]` for a canonical host; IPv6 in brackets; the default port left out. */
export function formatAuthority(host: string, port: number, defaultPort: number | null = null): string {
  const shown = host.includes(":") ? `[${host}]` : host;
  return port === defaultPort ? shown : `${shown}:${port}`;
}

/** `host:port` (IPv6 in brackets) → canonical host and port; the port may be left out when there is a default. */
export function splitAuthority(text: string, defaultPort: number | null): { host: string; port: number } | null {
  let hostText: string;
  let portText: string | null;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) return null;
    hostText = text.slice(0, close + 1);
    const after = text.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) return null;
    portText = after === "" ? null : after.slice(1);
  } else {
    const colon = text.lastIndexOf(":");
    hostText = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? null : text.slice(colon + 1);
    if (hostText.includes(":")) return null;
  }
  if (portText === "") portText = null;
  let port: number;
  if (portText === null) {
    if (defaultPort === null) return null;
    port = defaultPort;
  } else {
    if (!/^[0-9]{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 65535) return null;
  }
  // The head is latin1 text; a raw UTF-8 (IDN) host is decoded back before canonicalisation.
  const host = canonicalHost(Buffer.from(hostText, "latin1").toString("utf8"));
  return host ? { host, port } : null;
}

function bodyFraming(headers: readonly Header[], version: string): BodyFraming | { error: string } {
  const codings = headerValues(headers, "transfer-encoding").flatMap((v) => v.split(",").map((t) => t.trim().toLowerCase()));
  const lengths = headerValues(headers, "content-length").flatMap((v) => v.split(",").map((t) => t.trim()));
  if (codings.length > 0) {
    if (lengths.length > 0) return { error: "both Transfer-Encoding and Content-Length" };
    if (version !== "HTTP/1.1" || codings.length !== 1 || codings[0] !== "chunked") {
      return { error: "unsupported Transfer-Encoding" };
    }
    return { type: "chunked" };
  }
  if (lengths.length === 0) return { type: "none" };
  if (!lengths.every((l) => /^[0-9]{1,15}$/.test(l) && l === lengths[0])) return { error: "invalid Content-Length" };
  return { type: "length", length: Number(lengths[0]) };
}
