// Kept hand-written: ipaddr.js 2.5.0 (evaluated) refuses inet_aton's "0x" and trailing-dot forms and accepts zone ids and a zero-padded IPv6 dotted tail ("::ffff:127.0.0.01"), so it cannot be the one model here.
/**
 * IP address literals as the resolver and the kernel read them, not only as people write
 * them: `127.1`, `2130706433`, `0x7f000001` and `0177.0.0.1` all mean 127.0.0.1 to
 * inet_aton (and to the WHATWG URL parser), so the filter must recognise every form or a
 * loopback target slips through as a "name".
 */

/** An IPv4 (32-bit) or IPv6 (128-bit) address as a number. */
export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;

/**
 * Parses an IP literal in any form the resolver accepts: IPv4 with 1–4 parts, each decimal,
 * `0x` hex or `0`-leading octal (`127.1`, `2130706433`, `0x7f.0.0.1`, `0177.0.0.1`), one
 * trailing dot allowed; IPv6 with or without brackets, `::` compression and a dotted IPv4
 * tail (`::ffff:127.0.0.1`). Zone ids (`fe80::1%eth0`) are refused. Returns null for
 * anything else, including names.
 */
export function parseIpLiteral(text: string): IpAddress | null {
  if (text.startsWith("[") && text.endsWith("]")) return parseIpv6(text.slice(1, -1));
  if (text.includes(":")) return parseIpv6(text);
  return parseIpv4(text);
}

/** The address in its usual text form: dotted IPv4, RFC 5952 IPv6 (`::ffff:a.b.c.d` for mapped). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return formatIpv4(ip.value);
  if (ip.value >> 32n === 0xffffn) return `::ffff:${formatIpv4(ip.value & 0xffffffffn)}`;
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: compress the longest run (at least two) of zero groups, the first one on a tie.
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.len < 2) return hex.join(":");
  return `${hex.slice(0, best.at).join(":")}::${hex.slice(best.at + best.len).join(":")}`;
}

/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it reaches; others unchanged. */
export function unmapIpv4(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) return { family: 4, value: ip.value & 0xffffffffn };
  return ip;
}

/** The IPv4-mapped IPv6 form of an IPv4 address. */
export function mapIpv4(ip: IpAddress): IpAddress {
  return ip.family === 4 ? { family: 6, value: V4_MAPPED_PREFIX | ip.value } : ip;
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => Number((value >> shift) & 0xffn)).join(".");
}

/** One IPv4 part as inet_aton reads it, or null. */
function parseIpv4Part(part: string): bigint | null {
  if (/^0[xX][0-9a-fA-F]*$/.test(part)) return part.length === 2 ? 0n : BigInt(part);
  if (/^0[0-7]+$/.test(part)) return BigInt(`0o${part.slice(1)}`);
  if (/^(?:0|[1-9][0-9]*)$/.test(part)) return BigInt(part);
  return null;
}

function parseIpv4(text: string): IpAddress | null {
  const body = text.endsWith(".") ? text.slice(0, -1) : text;
  const parts = body.split(".");
  if (parts.length < 1 || parts.length > 4 || body.length > 256) return null;
  const numbers: bigint[] = [];
  for (const part of parts) {
    const n = parseIpv4Part(part);
    if (n === null) return null;
    numbers.push(n);
  }
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255n)) return null;
  // The last part fills every byte the earlier parts did not: 127.1 is 127.0.0.1.
  const lastBytes = BigInt(4 - numbers.length);
  if (last >= 1n << (8n * lastBytes)) return null;
  let value = 0n;
  numbers.forEach((n, i) => (value |= n << BigInt(24 - 8 * i)));
  return { family: 4, value: value | last };
}

/** Strict dotted-quad (as an IPv6 tail): four decimal parts, no leading zeros. */
function parseDottedQuad(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(?:0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((value, p) => (value << 8n) | BigInt(p), 0n);
}

function parseGroups(text: string): bigint[] | null {
  if (text === "") return [];
  const out: bigint[] = [];
  const pieces = text.split(":");
  for (const [i, piece] of pieces.entries()) {
    if (i === pieces.length - 1 && piece.includes(".")) {
      const v4 = parseDottedQuad(piece);
      if (v4 === null) return null;
      out.push(v4 >> 16n, v4 & 0xffffn);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
      out.push(BigInt(`0x${piece}`));
    } else {
      return null;
    }
  }
  return out;
}

function parseIpv6(text: string): IpAddress | null {
  if (text.length > 64 || text.includes("%")) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return null;
  // A dotted tail only at the very end.
  if (halves.length === 2 && halves[0]!.includes(".")) return null;
  const count = head.length + tail.length;
  if (halves.length === 2 ? count > 7 : count !== 8) return null;
  const groups = [...head, ...Array<bigint>(8 - count).fill(0n), ...tail];
  return { family: 6, value: groups.reduce((value, g) => (value << 16n) | g, 0n) };
}
