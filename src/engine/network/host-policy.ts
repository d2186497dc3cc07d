/**
 * The per-execution decision: may this sandbox reach host:port, and at which addresses.
 * Names are judged before any lookup (a refused name is never resolved, so lookups cannot
 * carry data out); every resolved address is then checked against the built-in deny of
 * internal ranges, and the caller connects to exactly those checked addresses (no second
 * lookup, so DNS rebinding cannot swap in 127.0.0.1 after the check).
 */
import { RequestError } from "../../errors";
import { type Cidr, canonicalHost, cidrContains, classifyAddress, parseCidr } from "./address-policy";
import { formatIp, type IpAddress, parseIpLiteral, unmapIpv4 } from "./ip-address";

/** Allow and deny patterns of one execution, as given (config, flags, request). */
export interface HostPolicyInput {
  /** Regular expressions a host must match (whole host). Empty: nothing is allowed. */
  allow: readonly string[];
  /** Regular expressions that refuse a host when they match anywhere in it. Deny wins. */
  deny: readonly string[];
  /** Exact host names allowed without a pattern (package registries for installs). */
  alwaysAllowHosts?: readonly string[];
}

export interface HostPolicy {
  readonly allow: readonly RegExp[];
  readonly deny: readonly RegExp[];
  readonly alwaysAllow: ReadonlySet<string>;
}

/** What the proxy itself allows, the same for every execution. */
export interface DestinationRules {
  allowedPorts: ReadonlySet<number>;
  /** Ranges that IP literals and internal addresses must be inside to be reached. */
  allowedCidrs: readonly Cidr[];
  /** Static names (canonical) → addresses, consulted before `resolve`. */
  hosts: ReadonlyMap<string, readonly string[]>;
  resolve(host: string): Promise<string[]>;
  /** Loopback ports the proxy listens on: never a destination. */
  selfPorts?: ReadonlySet<number>;
}

export type Decision =
  | { allowed: true; host: string; port: number; addresses: string[] }
  /** `status` is 403 for a refusal by policy, 502 when the host cannot be resolved. */
  | { allowed: false; reason: string; status: 403 | 502 };

const MAX_PATTERN_LENGTH = 1024;

/**
 * Compiles an execution's patterns. Allow patterns must match the WHOLE canonical host
 * (`api\.x\.test` is read as `^(?:api\.x\.test)$`, so `api.x.test.evil.test` does not pass);
 * deny patterns refuse a host when they match ANY part of it (`evil` refuses
 * `evil.test`). Each reading errs towards refusal. Matching ignores case.
 * Throws RequestError naming the first invalid pattern.
 */
export function compileHostPolicy(input: HostPolicyInput): HostPolicy {
  const alwaysAllow = new Set<string>();
  for (const host of input.alwaysAllowHosts ?? []) {
    const canonical = canonicalHost(host);
    if (!canonical) throw new RequestError(`Cannot allow host "${host}": not a valid host name`, "alwaysAllowHosts");
    alwaysAllow.add(canonical);
  }
  return {
    allow: input.allow.map((p) => compilePattern(p, "allow")),
    deny: input.deny.map((p) => compilePattern(p, "deny")),
    alwaysAllow,
  };
}

function compilePattern(pattern: string, list: "allow" | "deny"): RegExp {
  const fail = (state: string) => new RequestError(`Cannot use ${list} pattern "${pattern}": ${state}`, list);
  if (typeof pattern !== "string" || pattern.length === 0) throw fail("empty pattern");
  if (pattern.length > MAX_PATTERN_LENGTH) throw fail(`longer than ${MAX_PATTERN_LENGTH} characters`);
  try {
    new RegExp(pattern); // alone first: a valid pattern keeps its meaning inside (?:…)
    return new RegExp(list === "allow" ? `^(?:${pattern})$` : pattern, "i");
  } catch (error) {
    throw fail(error instanceof Error ? error.message.replace(/^Invalid regular expression: /, "") : String(error));
  }
}

/** Parses the proxy's allowed ranges; throws RequestError naming the first invalid one. */
export function compileCidrs(list: readonly string[]): Cidr[] {
  return list.map((text) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new RequestError(`Cannot use address range "${text}": not a CIDR such as "10.0.0.0/8"`, "allowedCidrs");
    return cidr;
  });
}

const refuse = (reason: string, status: 403 | 502 = 403): Decision => ({ allowed: false, reason, status });

/**
 * Decides one destination: the name policy first (ports, deny, IP literals, allow), then
 * resolution, then every address. An allowed decision lists the addresses to connect to.
 */
export async function decideDestination(policy: HostPolicy, rawHost: string, port: number, rules: DestinationRules): Promise<Decision> {
  const host = canonicalHost(rawHost);
  if (!host) return refuse("invalid host name");
  if (!rules.allowedPorts.has(port)) return refuse(`port ${port} is not allowed`);
  if (policy.deny.some((re) => re.test(host))) return refuse(`host "${host}" is denied by the network policy`);
  const literal = parseIpLiteral(host);
  if (literal && !inAllowedCidr(literal, rules)) return refuse(`IP-literal destination "${host}" is not allowed`);
  if (!policy.alwaysAllow.has(host) && !policy.allow.some((re) => re.test(host))) {
    return refuse(`host "${host}" is not in the allow list`);
  }
  let addresses: readonly string[];
  if (literal) addresses = [host];
  else {
    try {
      addresses = rules.hosts.get(host) ?? (await rules.resolve(host));
    } catch {
      return refuse(`cannot resolve host "${host}"`, 502);
    }
  }
  if (addresses.length === 0) return refuse(`cannot resolve host "${host}"`, 502);
  const checked: string[] = [];
  for (const text of addresses) {
    const parsed = parseIpLiteral(text);
    if (!parsed) return refuse(`cannot resolve host "${host}": not an address "${text}"`, 502);
    const ip = unmapIpv4(parsed);
    const cls = classifyAddress(ip);
    if (cls === "loopback" || cls === "unspecified") {
      if (rules.selfPorts?.has(port)) return refuse(`host "${host}" is the proxy itself`);
    }
    // A name may resolve to a public or test-net address (fake-IP DNS of egress proxies);
    // anything internal needs an explicitly allowed range.
    if (cls !== "public" && cls !== "test-net" && !inAllowedCidr(ip, rules)) {
      return refuse(`host "${host}" resolves to an internal address (${cls})`);
    }
    checked.push(formatIp(ip));
  }
  return { allowed: true, host, port, addresses: checked };
}

function inAllowedCidr(ip: IpAddress, rules: DestinationRules): boolean {
  return rules.allowedCidrs.some((cidr) => cidrContains(cidr, ip));
}
