/**
 * One allow or deny pattern, read and compiled. Two readings, told apart by the text alone:
 *
 * - a host NAME: only host-name characters (letters, digits, `-`, `_`, `.`, non-ASCII
 *   letters), optionally after a leading `*.`. Dots are literal and the name is compared in
 *   its canonical form (lower case, punycode). `api.x.test` is exactly that host, never
 *   `apiXx.test`; `*.x.test` is any host under `x.test` (not `x.test` itself).
 * - anything else is a regular expression in RE2 syntax, matched by RE2 (re2js, pure JS):
 *   time linear in the host's length whatever the pattern, so `(a+)+$` cannot stall the
 *   proxy. What RE2 lacks (lookaround, backreferences) is refused, never approximated.
 *
 * An allow pattern must match the WHOLE host; a deny pattern refuses a host when it matches
 * ANYWHERE in it (a deny name: when the host contains it). Both ignore case. Each reading
 * errs towards refusal, and an unusable pattern is an error, never a pattern that matches
 * nothing (or everything) in silence.
 */
import { RE2JS } from "re2js";
import { RequestError } from "../../errors";
import { canonicalHost } from "./address-policy";
import { parseIpLiteral } from "./ip-address";
import { estimateRegexSize } from "./regex-size";

export type PatternList = "allow" | "deny";

/** How a pattern's text is read. */
export type PatternReading = { kind: "name"; host: string; subdomains: boolean } | { kind: "regex" } | { kind: "invalid"; reason: string };

/** A compiled pattern, ready to test canonical hosts. */
export interface HostMatcher {
  readonly pattern: string;
  readonly kind: "name" | "regex";
  /** RE2 instructions it runs per host (0 for a name, compared as a string): what it costs the policy's budget. */
  readonly instructions: number;
  test(host: string): boolean;
}

export const MAX_PATTERN_LENGTH = 1024;
/**
 * Largest RE2 program of one pattern, in instructions (`[a-z0-9-]{1,63}` is ~130, `.*` is 4).
 * Matching costs about instructions × host length steps (~25 ns each here), so this bounds
 * every decision, and compiling, to milliseconds.
 */
export const MAX_PATTERN_INSTRUCTIONS = 1_000;

const NAME_PATTERN = /^(\*\.)?([A-Za-z0-9._\-\u0080-\uFFFF]+)$/;
const RE2_SYNTAX = "patterns use RE2 syntax, matched in linear time";

/** Reads a pattern's text: a host name (exact, or `*.` for the names under it), a regular expression, or neither. */
export function readHostPattern(pattern: string): PatternReading {
  if (typeof pattern !== "string" || pattern.length === 0) return { kind: "invalid", reason: "empty pattern" };
  if (pattern.length > MAX_PATTERN_LENGTH) return { kind: "invalid", reason: `longer than ${MAX_PATTERN_LENGTH} characters` };
  const name = NAME_PATTERN.exec(pattern);
  if (!name) return { kind: "regex" };
  const subdomains = name[1] !== undefined;
  const text = name[2]!;
  const host = canonicalHost(text);
  if (!host) {
    return { kind: "invalid", reason: "not a host name (a pattern of only host-name characters is matched as that exact name)" };
  }
  if (parseIpLiteral(host)) {
    if (subdomains) return { kind: "invalid", reason: `"*." needs a domain name after it, not an IP address` };
    // 127.1 and 2130706433 mean 127.0.0.1: say so rather than match a form no host is in.
    if (host !== text.toLowerCase().replace(/\.$/, "")) return { kind: "invalid", reason: `write this IP address as "${host}"` };
  }
  return { kind: "name", host, subdomains };
}

/** Compiles one pattern for a list. Throws RequestError naming the pattern when it cannot be used. */
export function compileHostPattern(pattern: string, list: PatternList): HostMatcher {
  const fail = (state: string) => new RequestError(`Cannot use ${list} pattern "${pattern}": ${state}`, list);
  const reading = readHostPattern(pattern);
  if (reading.kind === "invalid") throw fail(reading.reason);
  if (reading.kind === "name") return nameMatcher(pattern, reading, list);
  const estimate = estimateRegexSize(pattern);
  if (estimate > MAX_PATTERN_INSTRUCTIONS) throw fail(tooComplex(estimate));
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    throw fail(syntaxState(pattern, error));
  }
  const size = re.programSize();
  if (size > MAX_PATTERN_INSTRUCTIONS) throw fail(tooComplex(size));
  return {
    pattern,
    kind: "regex",
    instructions: size,
    test: list === "allow" ? (host) => re.matches(host) : (host) => re.matcher(host).find(),
  };
}

/**
 * The error sentence for a pattern that cannot be used in `list`, or null when it can:
 * for validating requests and configuration before anything runs. The proxy compiles
 * every pattern again itself and refuses the same ones.
 */
export function checkHostPattern(pattern: string, list: PatternList): string | null {
  try {
    compileHostPattern(pattern, list);
    return null;
  } catch (error) {
    if (error instanceof RequestError) return error.message;
    throw error;
  }
}

function nameMatcher(pattern: string, name: { host: string; subdomains: boolean }, list: PatternList): HostMatcher {
  const suffix = `.${name.host}`;
  const test =
    list === "allow"
      ? name.subdomains
        ? (host: string) => host.endsWith(suffix)
        : (host: string) => host === name.host
      : name.subdomains
        ? (host: string) => host.includes(suffix)
        : (host: string) => host.includes(name.host);
  return { pattern, kind: "name", instructions: 0, test };
}

const tooComplex = (size: number) =>
  `too complex (about ${size} RE2 instructions, at most ${MAX_PATTERN_INSTRUCTIONS}): use fewer or smaller counted repetitions such as {1,63}; + and * cost nothing extra`;

/** RE2's parse error as a state, naming the unsupported feature when that is the cause. */
function syntaxState(pattern: string, error: unknown): string {
  if (/\(\?<?[=!]/.test(pattern)) return `lookahead and lookbehind are not supported (${RE2_SYNTAX})`;
  if (/\\[1-9]|\\k</.test(pattern)) return `backreferences are not supported (${RE2_SYNTAX})`;
  const message = error instanceof Error ? error.message : String(error);
  return `${message.replace(/^error parsing regexp: /, "").replace(/`\(\?i\)/, "`")} (${RE2_SYNTAX})`;
}
