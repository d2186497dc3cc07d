/**
 * The per-execution decision: may this sandbox reach host:port, and at which addresses.
 * Names are judged before any lookup (a refused name is never resolved, so lookups cannot
 * carry data out); every resolved address is then checked against the built-in deny of
 * internal ranges, and the caller connects to exactly those checked addresses (no second
 * lookup, so DNS rebinding cannot swap in 127.0.0.1 after the check).
 */
import { RequestError } from "../../errors";
import { type Cidr, canonicalHost, cidrContains, classifyAddress, parseCidr } from "./address-policy";
import { compileHostPattern, type HostMatcher, type PatternList } from "./host-pattern";
import { formatIp, type IpAddress, parseIpLiteral, unmapIpv4 } from "./ip-address";

/** Allow and deny patterns of one execution, as given (config, flags, request). */
export interface HostPolicyInput {
  /** Patterns a host must match (whole host): names or RE2 expressions, see host-pattern.ts. Empty: nothing is allowed. */
  allow: readonly string[];
  /** Patterns that refuse a host when they match anywhere in it. Deny wins. */
  deny: readonly string[];
  /** Exact host names allowed without a pattern (package registries for installs). */
  alwaysAllowHosts?: readonly string[];
}

export interface HostPolicy {
  readonly allow: readonly HostMatcher[];
  readonly deny: readonly HostMatcher[];
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

/** Patterns one execution may have (allow and deny, from config and request). */
export const MAX_PATTERNS = 1_000;
/**
 * RE2 instructions one execution's regular expressions may have together: a decision then
 * costs at most ~2,000 × 253 matching steps (about 15 ms here), however the patterns are
 * written. Host names are compared as strings and cost nothing here.
 */
export const REGEX_BUDGET = 2_000;

/**
 * Compiles an execution's patterns (see host-pattern.ts for how each is read). Allow
 * patterns must match the WHOLE canonical host; deny patterns refuse a host when they match
 * ANY part of it. Each reading errs towards refusal. Matching ignores case and takes time
 * linear in the host's length. Throws RequestError naming the first pattern that cannot be
 * used, or saying the patterns together are too many or too complex.
 */
export function compileHostPolicy(input: HostPolicyInput): HostPolicy {
  const alwaysAllow = new Set<string>();
  for (const host of input.alwaysAllowHosts ?? []) {
    const canonical = canonicalHost(host);
    if (!canonical) throw new RequestError(`Cannot allow host "${host}": not a valid host name`, "alwaysAllowHosts");
    alwaysAllow.add(canonical);
  }
  let count = 0;
  let instructions = 0;
  const compile = (list: PatternList) => (pattern: string) => {
    const fail = (state: string, hint: string) => new RequestError(`Cannot use ${list} pattern "${pattern}": ${state}`, list, hint);
    if (++count > MAX_PATTERNS) throw fail(`more than ${MAX_PATTERNS} patterns in one execution`, "merge patterns");
    const matcher = compileHostPattern(pattern, list);
    instructions += matcher.instructions;
    if (instructions > REGEX_BUDGET) {
      throw fail(
        `the regular expressions of one execution together exceed ${REGEX_BUDGET} RE2 instructions`,
        "list host names (api.example.com, *.example.com) instead of expressions, or merge expressions",
      );
    }
    return matcher;
  };
  const deny = input.deny.map(compile("deny"));
  const allow = input.allow.map(compile("allow"));
  return { allow, deny, alwaysAllow };
}

/**
 * The error sentence for patterns that cannot be used together, or null when they can
 * (each pattern valid, all within the budget). For validating a request or a config
 * before anything runs; the proxy checks the same again itself.
 */
export function checkHostPatterns(input: { allow: readonly string[]; deny: readonly string[] }): string | null {
  try {
    compileHostPolicy(input);
    return null;
  } catch (error) {
    if (error instanceof RequestError) return error.message;
    throw error;
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
  if (policy.deny.some((pattern) => pattern.test(host))) return refuse(`host "${host}" is denied by the network policy`);
  const literal = parseIpLiteral(host);
  if (literal && !inAllowedCidr(literal, rules)) return refuse(`IP-literal destination "${host}" is not allowed`);
  if (!policy.alwaysAllow.has(host) && !policy.allow.some((pattern) => pattern.test(host))) {
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
