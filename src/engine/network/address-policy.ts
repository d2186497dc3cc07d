/**
 * What a destination really is: the canonical form of a host name (the one the policy
 * matches), and the class of an address (the one the built-in deny of internal ranges
 * checks after resolution). Pure functions; nothing here touches the network.
 */
import { domainToASCII } from "node:url";
import { formatIp, type IpAddress, parseIpLiteral, unmapIpv4 } from "./ip-address";

export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "metadata"
  | "unspecified"
  | "multicast"
  | "reserved"
  /**
   * Documentation and benchmarking ranges (TEST-NET-1/2/3, 198.18.0.0/15): never routed on
   * the Internet, so they reach nothing internal; transparent egress proxies answer DNS with
   * them ("fake-IP"), so a name resolving there is treated like a public one.
   */
  | "test-net";

/** An address range (`10.0.0.0/8`, `fd00::/8`). IPv4-mapped IPv6 ranges are stored as IPv4. */
export interface Cidr {
  family: 4 | 6;
  base: bigint;
  prefix: number;
}

/**
 * The canonical form of a host as the policy sees it: lower-case, one trailing dot removed,
 * IPv6 brackets removed, international names in punycode (`xn--…`), IP literals in their
 * usual form (`0x7f.1` → `127.0.0.1`). Null for anything that is not a valid host: empty,
 * spaces, NUL, `%`, `/`, `@`, `:` outside IPv6, empty or over-long labels.
 */
export function canonicalHost(host: string): string | null {
  if (typeof host !== "string" || host.length === 0 || host.length > 256) return null;
  if (host.startsWith("[") || host.includes(":")) {
    const ip = host.startsWith("[") && !host.endsWith("]") ? null : parseIpLiteral(host);
    return ip?.family === 6 ? formatIp(ip) : null;
  }
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  // domainToASCII percent-decodes and stops at "/", "?", "#" and "\": only name characters
  // (and non-ASCII, for IDNA) may reach it, or "allowed.test/x" would become "allowed.test".
  if (!/^[A-Za-z0-9._\-\u0080-\uFFFF]+$/.test(name)) return null;
  const ip = parseIpLiteral(name);
  if (ip) return formatIp(ip);
  const ascii = domainToASCII(name);
  if (ascii === "") return null;
  const asIp = parseIpLiteral(ascii); // full-width digits and other IDNA mappings
  if (asIp) return formatIp(asIp);
  if (ascii.length > 253) return null;
  const labels = ascii.split(".");
  if (!labels.every((label) => /^[a-z0-9_-]{1,63}$/.test(label))) return null;
  if (/^(?:[0-9]+|0x[0-9a-f]*)$/.test(labels[labels.length - 1]!)) return null; // a numeric last label is an IPv4 attempt
  return ascii;
}

/** Built-in classes. Order matters: the first match wins (metadata before link-local and ULA). */
const RANGES: [string, AddressClass][] = [
  ["169.254.169.254/32", "metadata"], // AWS, GCP, Azure, OpenStack, DigitalOcean …
  ["168.63.129.16/32", "metadata"], // Azure WireServer
  ["100.100.100.200/32", "metadata"], // Alibaba Cloud
  ["fd00:ec2::254/128", "metadata"], // AWS IMDS over IPv6
  ["0.0.0.0/8", "unspecified"], // 0.0.0.0 reaches the local host on Linux
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "private"], // carrier-grade NAT
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["172.16.0.0/12", "private"], // includes Docker's default bridges
  ["192.0.0.0/24", "reserved"], // IETF protocol assignments
  ["192.0.2.0/24", "test-net"], // documentation
  ["192.88.99.0/24", "reserved"], // 6to4 relay anycast
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "test-net"], // benchmarking
  ["198.51.100.0/24", "test-net"], // documentation
  ["203.0.113.0/24", "test-net"], // documentation
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"], // includes 255.255.255.255
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["64:ff9b:1::/48", "private"], // local-use NAT64
  ["100::/64", "reserved"], // discard
  ["2001::/32", "reserved"], // Teredo: the embedded IPv4 is obfuscated, so it cannot be checked
  ["2001:db8::/32", "reserved"], // documentation
  ["fc00::/7", "private"], // unique local
  ["fe80::/10", "link-local"],
  ["fec0::/10", "private"], // deprecated site-local
  ["ff00::/8", "multicast"],
];
const BUILT_IN: [Cidr, AddressClass][] = RANGES.map(([text, cls]) => [parseCidr(text)!, cls]);
const GLOBAL_UNICAST = parseCidr("2000::/3")!;
const NAT64 = parseCidr("64:ff9b::/96")!;
const SIX_TO_FOUR = parseCidr("2002::/16")!;
const V4_COMPATIBLE = parseCidr("::/96")!;

/** The class of an address (text or parsed). Throws TypeError for text that is not an IP literal. */
export function classifyAddress(address: IpAddress | string): AddressClass {
  const parsed = typeof address === "string" ? parseIpLiteral(address) : address;
  if (!parsed) throw new TypeError(`Cannot classify "${String(address)}": not an IP address`);
  const ip = unmapIpv4(parsed); // ::ffff:127.0.0.1 reaches 127.0.0.1
  const embedded = embeddedIpv4(ip);
  if (embedded) return classifyAddress(embedded);
  for (const [cidr, cls] of BUILT_IN) if (cidrContains(cidr, ip)) return cls;
  if (ip.family === 6 && !cidrContains(GLOBAL_UNICAST, ip)) return "reserved";
  return "public";
}

/** The IPv4 address that NAT64 (64:ff9b::/96) or 6to4 (2002::/16) would deliver to; null otherwise. */
function embeddedIpv4(ip: IpAddress): IpAddress | null {
  if (ip.family !== 6) return null;
  if (cidrContains(NAT64, ip)) return { family: 4, value: ip.value & 0xffffffffn };
  if (cidrContains(SIX_TO_FOUR, ip)) return { family: 4, value: (ip.value >> 80n) & 0xffffffffn };
  // Deprecated IPv4-compatible ::a.b.c.d (not :: and ::1, which the table classifies).
  if (cidrContains(V4_COMPATIBLE, ip) && ip.value > 1n) return { family: 4, value: ip.value };
  return null;
}

/** Parses `address/prefix` (a bare address is a single-address range); host bits are cleared. Null when invalid. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);
  const ip = parseStrictIp(addressText);
  if (!ip) return null;
  const bits = ip.family === 4 ? 32 : 128;
  if (prefixText !== null && !/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText)) return null;
  let prefix = prefixText === null ? bits : Number(prefixText);
  if (prefix > bits) return null;
  let family = ip.family;
  let value = ip.value;
  if (family === 6 && prefix >= 96 && value >> 32n === 0xffffn) {
    family = 4;
    value &= 0xffffffffn;
    prefix -= 96;
  }
  const width = family === 4 ? 32 : 128;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
  return { family, base: value & mask, prefix };
}

/** True when the address (IPv4-mapped addresses as IPv4) is inside the range. */
export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  const ip = cidr.family === 4 ? unmapIpv4(address) : address;
  if (ip.family !== cidr.family) return false;
  const width = cidr.family === 4 ? 32 : 128;
  return ip.value >> BigInt(width - cidr.prefix) === cidr.base >> BigInt(width - cidr.prefix);
}

/** CIDRs in configuration are written plainly: dotted-quad IPv4 or standard IPv6, nothing inet_aton-only. */
function parseStrictIp(text: string): IpAddress | null {
  if (text.includes(":")) return parseIpLiteral(text);
  return /^(?:(?:0|[1-9][0-9]{0,2})\.){3}(?:0|[1-9][0-9]{0,2})$/.test(text) ? parseIpLiteral(text) : null;
}
