/**
 * HTTP/1.x message heads, read and written by hand: the proxy re-serialises every head it
 * forwards, so what the upstream sees is exactly what the policy judged (one request,
 * validated headers, no hop-by-hop or Proxy-* headers, `Connection: close`).
 * Heads are handled as latin1 text so every byte survives the round trip.
 */

export type Header = [name: string, value: string];

export interface Head {
  /** The request line or status line. */
  startLine: string;
  headers: Header[];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, space and tab; never CR, LF, NUL or other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "upgrade"]);
/** Never removed because a Connection header names them: they frame the message. */
const FRAMING = new Set(["host", "content-length", "transfer-encoding"]);

/**
 * Index just past the blank line that ends a head (CRLF CRLF, or bare LF LF), or -1.
 * `from`: where to start looking (a caller that searched a prefix before passes its length - 3).
 */
export function findHeadEnd(data: Buffer, from = 0): number {
  for (let i = Math.max(0, from); i < data.length; i++) {
    if (data[i] !== 0x0a) continue;
    if (data[i + 1] === 0x0a) return i + 2;
    if (data[i + 1] === 0x0d && data[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/** Parses a head (without the blank line or with it). Returns an error text for anything malformed. */
export function parseHead(text: string): Head | { error: string } {
  const lines = text.replace(/\r?\n\r?\n$/, "").split(/\r?\n/);
  const startLine = lines.shift() ?? "";
  if (startLine === "" || !FIELD_VALUE.test(startLine) || startLine.includes("\t")) return { error: "malformed start line" };
  const headers: Header[] = [];
  for (const line of lines) {
    if (line.startsWith(" ") || line.startsWith("\t")) return { error: "folded header lines are not supported" };
    const colon = line.indexOf(":");
    const name = colon === -1 ? "" : line.slice(0, colon);
    if (!TOKEN.test(name)) return { error: "malformed header line" };
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (!FIELD_VALUE.test(value)) return { error: `malformed value of header "${name}"` };
    headers.push([name, value]);
  }
  return { startLine, headers };
}

/** Values of every header with this name (case-insensitive). */
export function headerValues(headers: readonly Header[], name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/**
 * Headers a proxy must not pass on: hop-by-hop ones, anything Proxy-*, those a Connection
 * header names, and the ones the caller names in `drop` (lower-case).
 */
export function endToEndHeaders(headers: readonly Header[], drop: readonly string[] = []): Header[] {
  const named = headerValues(headers, "connection")
    .flatMap((v) => v.split(","))
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t && !FRAMING.has(t));
  const removed = new Set([...HOP_BY_HOP, ...named, ...drop]);
  return headers.filter(([name]) => {
    const lower = name.toLowerCase();
    return !removed.has(lower) && !lower.startsWith("proxy-");
  });
}

/** A head as bytes: start line, headers, blank line. */
export function serializeHead(startLine: string, headers: readonly Header[]): Buffer {
  const lines = [startLine, ...headers.map(([n, v]) => `${n}: ${v}`), "", ""];
  return Buffer.from(lines.join("\r\n"), "latin1");
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * The proxy's own answer: a status, a one-line reason as body and in `X-Isol8-Reason`
 * (reduced to printable ASCII there), and `Connection: close`.
 */
export function proxyResponse(status: number, reason: string): Buffer {
  const line = reason.replace(/[\r\n]+/g, " ");
  const body = Buffer.from(`${line}\n`, "utf8");
  return Buffer.concat([
    serializeHead(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}`, [
      ["Content-Type", "text/plain; charset=utf-8"],
      ["Content-Length", String(body.length)],
      ["Connection", "close"],
      ["X-Isol8-Reason", line.replace(/[^\x20-\x7e]/g, "?")],
    ]),
    body,
  ]);
}
