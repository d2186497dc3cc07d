// Pure tables: how a pattern's text is read, what it matches as an allow or a deny
// pattern, and which patterns are refused (with the sentence that names them).
import { describe, expect, test } from "bun:test";
import { RequestError } from "../../errors";
import { checkHostPattern, compileHostPattern, MAX_PATTERN_INSTRUCTIONS, type PatternList, readHostPattern } from "./host-pattern";

describe("readHostPattern: a name or a regular expression", () => {
  test.each([
    ["api.allowed.test", { kind: "name", host: "api.allowed.test", subdomains: false }],
    ["API.Allowed.Test.", { kind: "name", host: "api.allowed.test", subdomains: false }],
    ["*.allowed.test", { kind: "name", host: "allowed.test", subdomains: true }],
    ["localhost", { kind: "name", host: "localhost", subdomains: false }],
    ["evil", { kind: "name", host: "evil", subdomains: false }],
    ["a-b_c.test", { kind: "name", host: "a-b_c.test", subdomains: false }],
    ["Bücher.test", { kind: "name", host: "xn--bcher-kva.test", subdomains: false }],
    ["127.0.0.1", { kind: "name", host: "127.0.0.1", subdomains: false }],
    ["api\\.allowed\\.test", { kind: "regex" }],
    ["^api.allowed.test$", { kind: "regex" }],
    ["(.*\\.)?allowed\\.test", { kind: "regex" }],
    [".*", { kind: "regex" }],
    ["*", { kind: "regex" }], // not a name: RE2 refuses it when compiled
    ["*.", { kind: "regex" }],
    ["*.*.test", { kind: "regex" }],
    ["api.allowed.test:443", { kind: "regex" }],
  ] as const)("%j → %j", (pattern, reading) => {
    expect(readHostPattern(pattern)).toEqual(reading);
  });

  test.each([
    ["", "empty pattern"],
    ["a".repeat(1025), "longer than 1024 characters"],
    [".allowed.test", "not a host name"],
    ["allowed..test", "not a host name"],
    ["foo.123", "not a host name"],
    [`${"a".repeat(64)}.test`, "not a host name"],
    ["127.1", 'write this IP address as "127.0.0.1"'],
    ["2130706433", 'write this IP address as "127.0.0.1"'],
    ["*.127.0.0.1", '"*." needs a domain name after it'],
  ])("%j is refused: %s", (pattern, reason) => {
    const reading = readHostPattern(pattern);
    expect(reading.kind).toBe("invalid");
    expect(reading.kind === "invalid" && reading.reason).toStartWith(reason);
  });
});

/** Which of `hosts` the pattern lets through (allow) or refuses (deny). */
const matched = (pattern: string, list: PatternList, hosts: readonly string[]) => {
  const matcher = compileHostPattern(pattern, list);
  return hosts.filter((host) => matcher.test(host));
};

describe("names mean what they say", () => {
  const hosts = [
    "api.allowed.test",
    "apixallowed.test",
    "api-allowed.test",
    "allowed.test",
    "x.api.allowed.test",
    "a.b.allowed.test",
    "api.allowed.test.evil.test",
    "notallowed.test",
    "evil.test",
    "api.evil.test",
    "evil.test.example",
    "notevil.test",
  ];

  test.each([
    // allow: the whole host
    ["api.allowed.test", "allow", ["api.allowed.test"]],
    ["API.ALLOWED.TEST.", "allow", ["api.allowed.test"]],
    ["*.allowed.test", "allow", ["api.allowed.test", "x.api.allowed.test", "a.b.allowed.test"]],
    ["allowed.test", "allow", ["allowed.test"]],
    ["evil.test", "allow", ["evil.test"]],
    // deny: a host that contains the name anywhere
    ["evil.test", "deny", ["api.allowed.test.evil.test", "evil.test", "api.evil.test", "evil.test.example", "notevil.test"]],
    ["evil", "deny", ["api.allowed.test.evil.test", "evil.test", "api.evil.test", "evil.test.example", "notevil.test"]],
    ["*.evil.test", "deny", ["api.allowed.test.evil.test", "api.evil.test"]],
    ["api.allowed.test", "deny", ["api.allowed.test", "x.api.allowed.test", "api.allowed.test.evil.test"]],
  ] as const)("%j as %s matches %j", (pattern, list, expected) => {
    expect(matched(pattern, list, hosts)).toEqual([...expected]);
  });

  test("the dot of a name is literal: api.allowed.test does not admit apiXallowed.test", () => {
    expect(matched("api.allowed.test", "allow", ["apixallowed.test", "api-allowed.test", "api.allowed.test"])).toEqual(["api.allowed.test"]);
    // Still works: a regular expression keeps its wildcard dot.
    expect(matched("api.allowed.test$", "allow", ["apixallowed.test", "api.allowed.test"])).toEqual(["apixallowed.test", "api.allowed.test"]);
  });

  test("a domain and its subdomains: both names, or one expression", () => {
    const hosts = ["allowed.test", "api.allowed.test", "a.b.allowed.test", "notallowed.test", "allowed.test.evil.test"];
    const both = [compileHostPattern("allowed.test", "allow"), compileHostPattern("*.allowed.test", "allow")];
    expect(hosts.filter((h) => both.some((m) => m.test(h)))).toEqual(["allowed.test", "api.allowed.test", "a.b.allowed.test"]);
    expect(matched("(.*\\.)?allowed\\.test", "allow", hosts)).toEqual(["allowed.test", "api.allowed.test", "a.b.allowed.test"]);
  });
});

describe("regular expressions (RE2 syntax)", () => {
  test.each([
    ["api\\.allowed\\.test", "allow", ["api.allowed.test"]],
    ["^api\\.allowed\\.test$", "allow", ["api.allowed.test"]],
    ["API\\.ALLOWED\\.TEST", "allow", ["api.allowed.test"]], // case is ignored
    ["[a-z]+\\.allowed\\.test", "allow", ["api.allowed.test"]],
    ["a|api\\.allowed\\.test", "allow", ["api.allowed.test"]], // alternation inside the whole-host match
    ["allowed", "deny", ["api.allowed.test", "allowed.test.evil.test"]], // a name: contains
    ["allow(ed)?", "deny", ["api.allowed.test", "allowed.test.evil.test"]],
    ["^allowed\\.test", "deny", ["allowed.test.evil.test"]],
    ["\\.test$", "deny", ["api.allowed.test", "allowed.test.evil.test", "other.test"]],
    ["(?P<sub>[a-z]+)\\.allowed\\.test", "allow", ["api.allowed.test"]],
  ] as const)("%j as %s matches %j", (pattern, list, expected) => {
    expect(matched(pattern, list, ["api.allowed.test", "allowed.test.evil.test", "other.test"])).toEqual([...expected]);
  });

  test("a pattern is data: one that closes a group it did not open is refused, never a widened match", () => {
    expect(() => compileHostPattern("x)|(.*", "allow")).toThrow('Cannot use allow pattern "x)|(.*": unexpected ): `x)|(.*`');
  });

  test.each([
    ["(?=a)b", "lookahead and lookbehind are not supported"],
    ["a(?!b)", "lookahead and lookbehind are not supported"],
    ["(?<=a)b", "lookahead and lookbehind are not supported"],
    ["(?<!a)b", "lookahead and lookbehind are not supported"],
    ["(a)\\1", "backreferences are not supported"],
    ["(?<n>a)\\k<n>", "backreferences are not supported"],
    ["(", "missing closing ): `(`"],
    ["a[", "missing closing ]: `[`"],
    ["*", "missing argument to repetition operator: `*`"],
    ["*.*.test", "missing argument to repetition operator: `*`"],
    ["a**", "invalid nested repetition operator: `**`"],
    ["\\u0041", "invalid escape sequence: `\\u`"],
    ["a{2,1}", "invalid repeat count: `{2,1}`"],
  ])("%j is refused: %s", (pattern, state) => {
    for (const list of ["allow", "deny"] as const) {
      expect(() => compileHostPattern(pattern, list)).toThrow(RequestError);
      expect(() => compileHostPattern(pattern, list)).toThrow(`Cannot use ${list} pattern "${pattern}": ${state}`);
    }
    expect(checkHostPattern(pattern, "deny")).toContain("(patterns use RE2 syntax, matched in linear time)");
  });
});

describe("catastrophic patterns cannot stall matching", () => {
  // Each would take ~2^30 steps or more in a backtracking engine on these hosts; RE2
  // answers in time linear in the host (the test would time out otherwise).
  const thirty = "a".repeat(30);
  const longest = `${"a".repeat(63)}.${"a".repeat(63)}.${"a".repeat(63)}.${"a".repeat(61)}`; // 253 characters
  const almost = `${thirty}!`; // never a canonical host, but the classic trigger

  test.each([
    ["(a+)+$", true],
    ["(a|a)*$", true],
    ["(a|aa)+$", true],
    ["(.*a){20}", true],
    ["^(a+)+b", false],
    ["(a*)*b", false],
    ["(x+x+)+y", false],
  ])("%j: deny answers %p on long hosts, allow never on a trailing '!'", (pattern, denies) => {
    const deny = compileHostPattern(pattern, "deny");
    expect(deny.test(thirty)).toBe(denies);
    expect(deny.test(longest)).toBe(denies);
    expect(compileHostPattern(pattern, "allow").test(almost)).toBe(false);
  });

  test("eight (a+)+$ deny patterns refuse every 30-character all-a host", () => {
    const deny = Array.from({ length: 8 }, () => compileHostPattern("(a+)+$", "deny"));
    for (let n = 1; n <= 30; n++) expect(deny.every((m) => m.test("a".repeat(n)))).toBe(true);
    expect(deny.some((m) => m.test("sink.test"))).toBe(false); // still works: other hosts pass the deny list
  });

  test("programs that would take long to compile are refused before compiling", () => {
    const big = "(?:a{1,999})".repeat(3);
    expect(() => compileHostPattern(big, "deny")).toThrow(`Cannot use deny pattern "${big}": too complex (about 5991 RE2 instructions, at most ${MAX_PATTERN_INSTRUCTIONS})`);
    expect(checkHostPattern("[a-z]{1,450}", "allow")).toBeNull(); // one large repetition still fits
    expect(checkHostPattern("(?:[a-z0-9-]{1,63}\\.){1,4}[a-z]{2,10}", "allow")).toBeNull();
    expect(checkHostPattern("(?:[a-z0-9-]+\\.)+[a-z]+", "allow")).toBeNull();
  });
});

test("checkHostPattern gives the sentence compileHostPattern throws, or null", () => {
  expect(checkHostPattern("api.allowed.test", "allow")).toBeNull();
  expect(checkHostPattern("*.allowed.test", "deny")).toBeNull();
  expect(checkHostPattern("(a+)+$", "deny")).toBeNull();
  expect(checkHostPattern("127.1", "deny")).toBe('Cannot use deny pattern "127.1": write this IP address as "127.0.0.1"');
  expect(checkHostPattern("(?=x)", "allow")).toStartWith('Cannot use allow pattern "(?=x)": lookahead and lookbehind are not supported');
});
