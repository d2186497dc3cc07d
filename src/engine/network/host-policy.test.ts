// Decisions only: the resolver is a table, so no name is ever looked up for real.
import { describe, expect, test } from "bun:test";
import { RequestError } from "../../errors";
import {
  checkHostPatterns,
  compileCidrs,
  compileHostPolicy,
  type Decision,
  decideDestination,
  type DestinationRules,
  type HostPolicyInput,
  MAX_PATTERNS,
  REGEX_BUDGET,
} from "./host-policy";

/** A resolver over a fixed table that records every name it was asked for. */
function tableResolver(table: Record<string, string[]>) {
  const asked: string[] = [];
  const resolve = async (host: string) => {
    asked.push(host);
    const found = table[host];
    if (!found) throw new Error(`ENOTFOUND ${host}`);
    return found;
  };
  return { asked, resolve };
}

const TABLE = {
  "sink.test": ["127.0.0.1"],
  "public.test": ["8.8.4.4"], // a public address (never contacted: decisions only)
  "mixed.test": ["8.8.4.4", "10.0.0.5"],
  "metadata.test": ["169.254.169.254"],
  "v6loop.test": ["::1"],
  "mapped.test": ["::ffff:127.0.0.1"],
  "private.test": ["192.168.1.20"],
  "empty.test": [],
  "garbage.test": ["not-an-address"],
};

function rules(overrides: Partial<DestinationRules> = {}, table: Record<string, string[]> = TABLE) {
  const resolver = tableResolver(table);
  const built: DestinationRules = {
    allowedPorts: new Set([80, 443]),
    allowedCidrs: [],
    hosts: new Map(),
    resolve: resolver.resolve,
    ...overrides,
  };
  return { rules: built, asked: resolver.asked };
}

async function decide(input: Partial<HostPolicyInput>, host: string, port = 443, overrides: Partial<DestinationRules> = {}): Promise<Decision> {
  const policy = compileHostPolicy({ allow: [], deny: [], ...input });
  return decideDestination(policy, host, port, rules(overrides).rules);
}

const reasonOf = (d: Decision) => (d.allowed ? "allowed" : d.reason);

describe("host patterns", () => {
  test("an allowed public host is allowed, with its checked addresses", async () => {
    expect(await decide({ allow: ["^public\\.test$"] }, "public.test")).toEqual({
      allowed: true,
      host: "public.test",
      port: 443,
      addresses: ["8.8.4.4"],
    });
  });

  test("an empty allow list allows nothing", async () => {
    expect(reasonOf(await decide({}, "public.test"))).toBe('host "public.test" is not in the allow list');
  });

  test("deny wins over allow", async () => {
    const d = await decide({ allow: [".*"], deny: ["^public\\.test$"] }, "public.test");
    expect(reasonOf(d)).toBe('host "public.test" is denied by the network policy');
  });

  test("deny wins over always-allowed hosts", async () => {
    const d = await decide({ deny: ["public"], alwaysAllowHosts: ["public.test"] }, "public.test");
    expect(d.allowed).toBe(false);
  });

  test("always-allowed hosts pass with an empty allow list, by exact name only", async () => {
    expect((await decide({ alwaysAllowHosts: ["PUBLIC.test."] }, "public.test")).allowed).toBe(true);
    expect((await decide({ alwaysAllowHosts: ["public.test"] }, "x.public.test")).allowed).toBe(false);
  });

  test("allow patterns must match the whole host (unanchored patterns are anchored)", async () => {
    const allow = ["public\\.test"];
    expect((await decide({ allow }, "public.test")).allowed).toBe(true);
    for (const host of ["public.test.evil.test", "xpublic.test", "public.testx"]) {
      expect(reasonOf(await decide({ allow }, host))).toBe(`host "${host}" is not in the allow list`);
    }
  });

  test("a host name is exact: its dots are literal and it cannot reach a longer host", async () => {
    for (const host of ["public.test.evil.test", "publicxtest", "x.public.test"]) {
      expect(reasonOf(await decide({ allow: ["public.test"] }, host))).toContain("not in the allow list");
    }
    expect((await decide({ allow: ["public.test"] }, "PUBLIC.test.")).allowed).toBe(true);
    expect((await decide({ allow: ["*.public.test"] }, "x.public.test", 443, { hosts: new Map([["x.public.test", ["8.8.4.4"]]]) })).allowed).toBe(true);
  });

  test("a regular expression keeps its meaning: an unescaped dot matches any character, anchored to the whole host", async () => {
    const policy = { allow: ["public.test$"] };
    expect((await decide(policy, "publicxtest", 443, { hosts: new Map([["publicxtest", ["8.8.4.4"]]]) })).allowed).toBe(true);
    expect(reasonOf(await decide(policy, "public.test.evil.test"))).toContain("not in the allow list");
  });

  test("a deny name refuses every host containing it; deny still wins over an allow-all", async () => {
    for (const host of ["public.test", "x.public.test", "public.test.other"]) {
      expect(reasonOf(await decide({ allow: [".*"], deny: ["public.test"] }, host))).toBe(`host "${host}" is denied by the network policy`);
    }
    expect((await decide({ allow: [".*"], deny: ["public.test"] }, "publicxtest", 443, { hosts: new Map([["publicxtest", ["8.8.4.4"]]]) })).allowed).toBe(true);
  });

  test("catastrophic deny patterns refuse at once, and never fail open", async () => {
    const deny = Array.from({ length: 8 }, () => "(a+)+$");
    const host = "a".repeat(30);
    expect(reasonOf(await decide({ allow: [".*"], deny }, host))).toBe(`host "${host}" is denied by the network policy`);
    expect((await decide({ allow: [".*"], deny }, "public.test")).allowed).toBe(true);
    // A pattern RE2 cannot run is an error for the whole policy: nothing runs with the others alone.
    expect(() => compileHostPolicy({ allow: [".*"], deny: ["(a+)+$", "(?<=a)b"] })).toThrow('Cannot use deny pattern "(?<=a)b"');
  });

  test("deny patterns refuse when they match any part of the host", async () => {
    expect((await decide({ allow: [".*"], deny: ["evil"] }, "evil.test")).allowed).toBe(false);
    expect((await decide({ allow: [".*"], deny: ["evil"] }, "a.evil.test")).allowed).toBe(false);
  });

  test("case and trailing dot are canonicalised before matching", async () => {
    for (const host of ["PUBLIC.TEST", "public.test.", "Public.Test."]) {
      expect((await decide({ allow: ["^public\\.test$"] }, host)).allowed).toBe(true);
      expect((await decide({ allow: [".*"], deny: ["^public\\.test$"] }, host)).allowed).toBe(false);
    }
  });

  test("patterns ignore case", async () => {
    expect((await decide({ allow: ["^PUBLIC\\.TEST$"] }, "public.test")).allowed).toBe(true);
  });

  test("an IDN look-alike is a different host", async () => {
    const d = await decide({ allow: ["^public\\.test$"] }, "рublic.test"); // Cyrillic р
    expect(reasonOf(d)).toMatch(/^host "xn--.*\.test" is not in the allow list$/);
  });

  test("an invalid host is refused", async () => {
    expect(reasonOf(await decide({ allow: [".*"] }, "public.test/x"))).toBe("invalid host name");
    expect(reasonOf(await decide({ allow: [".*"] }, ""))).toBe("invalid host name");
  });

  test("invalid patterns fail with a RequestError naming the pattern", () => {
    expect(() => compileHostPolicy({ allow: ["("], deny: [] })).toThrow(RequestError);
    expect(() => compileHostPolicy({ allow: ["("], deny: [] })).toThrow('Cannot use allow pattern "(":');
    expect(() => compileHostPolicy({ allow: [], deny: ["a["] })).toThrow('Cannot use deny pattern "a[":');
    expect(() => compileHostPolicy({ allow: [""], deny: [] })).toThrow('Cannot use allow pattern "": empty pattern');
    expect(() => compileHostPolicy({ allow: ["a".repeat(2000)], deny: [] })).toThrow("longer than 1024 characters");
    expect(() => compileHostPolicy({ allow: [], deny: [], alwaysAllowHosts: ["a b"] })).toThrow('Cannot allow host "a b"');
  });

  test("a pattern is data: one that closes the anchoring group is invalid, not a widened match", () => {
    expect(() => compileHostPolicy({ allow: ["x)|(.*"], deny: [] })).toThrow(RequestError);
  });

  test("the patterns of one policy share a budget: many names or small expressions, not without end", () => {
    expect(() => compileHostPolicy({ allow: Array.from({ length: MAX_PATTERNS }, (_, i) => `h${i}.test`), deny: [] })).not.toThrow();
    expect(() => compileHostPolicy({ allow: [...Array.from({ length: MAX_PATTERNS }, (_, i) => `h${i}.test`), "x"], deny: [] })).toThrow(
      `Cannot use allow pattern "x": more than ${MAX_PATTERNS} patterns in one execution`,
    );
    const large = "[a-z]{1,450}"; // ~900 instructions
    expect(() => compileHostPolicy({ allow: [large], deny: [large] })).not.toThrow();
    expect(() => compileHostPolicy({ allow: [large, large], deny: [large] })).toThrow(
      `Cannot use allow pattern "${large}": the regular expressions of one execution together exceed ${REGEX_BUDGET} RE2 instructions`,
    );
    expect(checkHostPatterns({ allow: [large, large, large], deny: [] })).toContain("together exceed");
    expect(checkHostPatterns({ allow: ["a.test", "*.b.test"], deny: Array.from({ length: 8 }, () => "(a+)+$") })).toBeNull();
  });
});

describe("ports", () => {
  test("only 80 and 443 unless configured", async () => {
    expect((await decide({ allow: [".*"] }, "public.test", 80)).allowed).toBe(true);
    for (const port of [22, 25, 6379, 8080]) {
      expect(reasonOf(await decide({ allow: [".*"] }, "public.test", port))).toBe(`port ${port} is not allowed`);
    }
    expect((await decide({ allow: [".*"] }, "public.test", 8080, { allowedPorts: new Set([8080]) })).allowed).toBe(true);
  });
});

describe("IP literals and internal addresses", () => {
  test("IP literals are refused unless inside an allowed CIDR", async () => {
    for (const host of ["127.0.0.1", "2130706433", "0x7f.1", "8.8.8.8", "[::1]", "169.254.169.254"]) {
      expect(reasonOf(await decide({ allow: [".*"] }, host))).toMatch(/^IP-literal destination ".*" is not allowed$/);
    }
    const allowedCidrs = compileCidrs(["127.0.0.1/32"]);
    expect(await decide({ allow: [".*"] }, "0x7f.1", 443, { allowedCidrs })).toEqual({
      allowed: true,
      host: "127.0.0.1",
      port: 443,
      addresses: ["127.0.0.1"],
    });
  });

  test("a CIDR-allowed IP literal still needs the allow list", async () => {
    const allowedCidrs = compileCidrs(["127.0.0.1/32"]);
    expect(reasonOf(await decide({}, "127.0.0.1", 443, { allowedCidrs }))).toBe('host "127.0.0.1" is not in the allow list');
    expect((await decide({ allow: ["^127\\.0\\.0\\.1$"] }, "127.0.0.1", 443, { allowedCidrs })).allowed).toBe(true);
  });

  test.each([
    ["sink.test", "loopback"],
    ["metadata.test", "metadata"],
    ["v6loop.test", "loopback"],
    ["mapped.test", "loopback"],
    ["private.test", "private"],
  ])("a name resolving to an internal address is refused: %s (%s)", async (host, cls) => {
    expect(reasonOf(await decide({ allow: [".*"] }, host))).toBe(`host "${host}" resolves to an internal address (${cls})`);
  });

  test("every resolved address is checked: one internal address refuses the host", async () => {
    expect(reasonOf(await decide({ allow: [".*"] }, "mixed.test"))).toBe('host "mixed.test" resolves to an internal address (private)');
  });

  test("an internal address inside an allowed CIDR is allowed, and mapped addresses come back as IPv4", async () => {
    const allowedCidrs = compileCidrs(["127.0.0.1/32"]);
    expect(await decide({ allow: [".*"] }, "mapped.test", 443, { allowedCidrs })).toEqual({
      allowed: true,
      host: "mapped.test",
      port: 443,
      addresses: ["127.0.0.1"],
    });
    expect((await decide({ allow: [".*"] }, "private.test", 443, { allowedCidrs })).allowed).toBe(false);
  });

  test("the proxy's own loopback ports are never a destination", async () => {
    const allowedCidrs = compileCidrs(["127.0.0.0/8"]);
    const selfPorts = new Set([8118]);
    const over = { allowedCidrs, selfPorts, allowedPorts: new Set([8118]) };
    expect(reasonOf(await decide({ allow: [".*"] }, "127.0.0.1", 8118, over))).toBe('host "127.0.0.1" is the proxy itself');
    expect(reasonOf(await decide({ allow: [".*"] }, "sink.test", 8118, over))).toBe('host "sink.test" is the proxy itself');
  });
});

describe("resolution", () => {
  test("a refused name is never resolved", async () => {
    const { rules: r, asked } = rules();
    const deny = compileHostPolicy({ allow: ["^.*\\.test$"], deny: ["notallowed"] });
    for (const host of ["c2VjcmV0.notallowed.test", "other.example"]) await decideDestination(deny, host, 443, r);
    await decideDestination(deny, "public.test", 22, r);
    expect(asked).toEqual([]);
  });

  test("an allowed name is resolved once, and static hosts come first", async () => {
    const { rules: r, asked } = rules({ hosts: new Map([["sink.test", ["8.8.4.4"]]]) });
    const policy = compileHostPolicy({ allow: [".*"], deny: [] });
    expect(await decideDestination(policy, "SINK.test", 443, r)).toMatchObject({ allowed: true, addresses: ["8.8.4.4"] });
    expect(await decideDestination(policy, "public.test", 443, r)).toMatchObject({ allowed: true });
    expect(asked).toEqual(["public.test"]);
  });

  test("names that do not resolve, resolve to nothing or to garbage give 502", async () => {
    for (const host of ["missing.test", "empty.test", "garbage.test"]) {
      const d = await decide({ allow: [".*"] }, host);
      expect(d).toMatchObject({ allowed: false, status: 502 });
      expect(reasonOf(d)).toStartWith(`cannot resolve host "${host}"`);
    }
  });

  test("refusals by policy are 403", async () => {
    expect(await decide({}, "public.test")).toMatchObject({ allowed: false, status: 403 });
  });
});

test("compileCidrs names the bad range", () => {
  expect(() => compileCidrs(["127.0.0.1/32", "10.0.0.0/99"])).toThrow('Cannot use address range "10.0.0.0/99"');
});

describe("fake-IP DNS of egress proxies", () => {
  test("a name resolving to a test-net address passes; the same address as an IP literal does not", async () => {
    const rules = {
      allowedPorts: new Set([443]),
      allowedCidrs: [],
      hosts: new Map<string, readonly string[]>(),
      resolve: async () => ["203.0.113.80"],
    };
    const policy = compileHostPolicy({ allow: ["pkgs\\.example\\.test", "203\\.0\\.113\\.80"], deny: [] });
    expect((await decideDestination(policy, "pkgs.example.test", 443, rules)).allowed).toBe(true);
    expect((await decideDestination(policy, "203.0.113.80", 443, rules)).allowed).toBe(false);
  });
});
