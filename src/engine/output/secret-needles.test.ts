import { describe, expect, test } from "bun:test";
import { createMasker } from "./masker";
import { base64Core, MIN_ENCODED_BITS, secretNeedles } from "./secret-needles";

const needleTexts = (secrets: string[]) => secretNeedles(secrets).map((n) => n.toString("utf8"));

/** Deterministic pseudo-random numbers (mulberry32): the property tests replay exactly. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Characters random secrets are drawn from: URL-special, multi-byte and plain ones. */
const ALPHABET = [..."abcXYZ0189-_.~!*'()/+ %&=?#é€日🔑"];

function randomText(next: () => number, length: number): string {
  return Array.from({ length }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]!).join("");
}

function randomBytes(next: () => number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
}

/** Everything a masker built from the secret's needles passes on for this text. */
function masked(secret: string, text: string): string {
  const masker = createMasker(secretNeedles([secret]));
  return Buffer.concat([masker.push(Buffer.from(text, "latin1")), masker.flush()]).toString("latin1");
}

const urlSafe = (b64: string) => b64.replace(/\+/g, "-").replace(/\//g, "_");
const unpadded = (b64: string) => b64.replace(/=+$/, "");

describe("secretNeedles: the table", () => {
  test("a plain token: itself, hex both cases, base64 cores of each alignment and its end forms", () => {
    expect(needleTexts(["s3cr3t-value-4711"]).sort()).toEqual(
      [
        "s3cr3t-value-4711",
        "7333637233742d76616c75652d34373131",
        "7333637233742D76616C75652D34373131",
        // alignment 0: core, then (ending the data) with its last character, padded or not
        "czNjcjN0LXZhbHVlLTQ3MT",
        "czNjcjN0LXZhbHVlLTQ3MTE=",
        "czNjcjN0LXZhbHVlLTQ3MTE",
        // alignment 1: the value ends on a group boundary, so the core is all there is
        "MzY3IzdC12YWx1ZS00NzEx",
        // alignment 2
        "zM2NyM3QtdmFsdWUtNDcxM",
        "zM2NyM3QtdmFsdWUtNDcxMQ==",
        "zM2NyM3QtdmFsdWUtNDcxMQ",
      ].sort(),
    );
  });

  test("URL-special and multi-byte characters: every percent-encoding, both base64 alphabets", () => {
    const needles = needleTexts(["pä/ss w+rd~"]);
    for (const form of [
      "pä/ss w+rd~",
      "p%C3%A4%2Fss%20w%2Brd~", // encodeURIComponent, Python quote(s, safe="")
      "p%C3%A4%2Fss+w%2Brd~", // form encoding, Python quote_plus
      "p%C3%A4/ss%20w%2Brd~", // Python quote(s)
      "p%C3%A4/ss+w%2Brd~",
      "70c3a42f737320772b72647e",
      "70C3A42F737320772B72647E",
      "cMOkL3NzIHcrcmR+", // alignment 0, standard
      "cMOkL3NzIHcrcmR-", // alignment 0, URL-safe
      "DDpC9zcyB3K3Jkf",
      "DDpC9zcyB3K3Jkfg==",
      "ww6Qvc3MgdytyZH4=",
      "ww6Qvc3MgdytyZH4",
    ]) {
      expect(needles).toContain(form);
    }
  });

  test("encodeURIComponent keeps ! * ' ( ): that form is masked beside the strict one", () => {
    const needles = needleTexts(["it's(ok)!"]);
    expect(needles).toContain("it's(ok)!"); // encodeURIComponent leaves it as it is
    expect(needles).toContain("it%27s%28ok%29%21"); // RFC 3986 strict
  });

  test("every secret's forms are collected, duplicates once, empty values ignored", () => {
    const one = secretNeedles(["token-aaaa-1111"]).length;
    expect(secretNeedles(["token-aaaa-1111", "token-aaaa-1111", ""]).length).toBe(one);
    expect(secretNeedles(["token-aaaa-1111", "token-bbbb-2222"]).length).toBe(2 * one);
    expect(secretNeedles([])).toEqual([]);
    expect(secretNeedles([""])).toEqual([]);
  });

  test(`forms carrying fewer than ${MIN_ENCODED_BITS} bits of the value are not masked; the value itself always is`, () => {
    // bytes | hex digits | base64 alignments kept
    const table: [string, boolean, number][] = [
      ["a", false, 0],
      ["abc", false, 0], // 6 hex digits, base64 cores of 4, 2 and 3 characters
      ["abcd", true, 0], // 8 hex digits; cores of 5, 4 and 5 characters
      ["abcde", true, 3], // cores of 6 characters at every alignment
      ["abcdefgh", true, 3],
    ];
    for (const [secret, hex, alignments] of table) {
      const needles = needleTexts([secret]);
      expect(needles).toContain(secret);
      expect(needles.includes(Buffer.from(secret).toString("hex"))).toBe(hex);
      const cores = [0, 1, 2].map((a) => base64Core(Buffer.from(secret), a).core);
      expect(cores.filter((core) => needles.includes(core)).length).toBe(alignments);
      // 6 base64 characters (36 bits) is the shortest encoded form there is.
      for (const needle of needles) if (needle !== secret) expect(needle.length).toBeGreaterThanOrEqual(6);
    }
  });

  test("a short value's URL-encoded form is masked like the value", () => {
    expect(needleTexts(["a b"]).sort()).toEqual(["a b", "a%20b", "a+b"].sort());
  });
});

describe("secretNeedles: property checks over random neighbours (seeded, 400 cases each)", () => {
  test("base64 (standard and URL-safe, padded or not): the core of the value's alignment occurs, and masking covers every character the value alone determines", () => {
    const next = random(11);
    for (let i = 0; i < 400; i++) {
      const secret = randomText(next, 5 + Math.floor(next() * 30));
      const bytes = Buffer.from(secret, "utf8");
      const prefix = randomBytes(next, Math.floor(next() * 9));
      const suffix = randomBytes(next, Math.floor(next() * 6)); // 0: the value ends the data
      const std = Buffer.concat([prefix, bytes, suffix]).toString("base64");
      const first = Math.ceil((8 * prefix.length) / 6);
      // The character after the core mixes the value's last bits with the suffix's first
      // ones; when those suffix bits are zero it equals the value's end form and goes too.
      const bitsShared = [0, 4, 2][(prefix.length + bytes.length) % 3]!;
      const zeroAfter = bitsShared > 0 && suffix.length > 0 && suffix[0]! >> (8 - bitsShared) === 0;
      const coreEnd = Math.floor((8 * (prefix.length + bytes.length)) / 6);
      const last = suffix.length === 0 ? std.length : coreEnd + (zeroAfter ? 1 : 0);
      const { core } = base64Core(bytes, prefix.length % 3);
      for (const alphabet of [(s: string) => s, urlSafe]) {
        for (const padding of [(s: string) => s, unpadded]) {
          const encoded = padding(alphabet(std));
          const context = { secret, prefix: prefix.toString("hex"), suffix: suffix.toString("hex"), encoded };
          expect({ ...context, at: encoded.indexOf(alphabet(core), first) }).toEqual({ ...context, at: first });
          expect(core.length).toBe(coreEnd - first);
          const end = Math.min(last, encoded.length);
          const expected = `${encoded.slice(0, first)}***${encoded.slice(end)}`;
          expect({ ...context, masked: masked(secret, encoded) }).toEqual({ ...context, masked: expected });
        }
      }
    }
  });

  test("hex (both cases): the value's hex inside a longer hex text is masked whole", () => {
    const next = random(12);
    for (let i = 0; i < 400; i++) {
      const secret = randomText(next, 4 + Math.floor(next() * 30));
      const [prefix, suffix] = [randomBytes(next, Math.floor(next() * 9)), randomBytes(next, Math.floor(next() * 9))];
      for (const hexCase of [(s: string) => s, (s: string) => s.toUpperCase()]) {
        const text = hexCase(Buffer.concat([prefix, Buffer.from(secret), suffix]).toString("hex"));
        const expected = `${hexCase(prefix.toString("hex"))}***${hexCase(suffix.toString("hex"))}`;
        expect({ secret, masked: masked(secret, text) }).toEqual({ secret, masked: expected });
      }
    }
  });

  test("URL encodings (encodeURIComponent, RFC 3986 strict, Python quote, + for spaces) inside a longer encoded text", () => {
    const strict = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const encoders = [
      encodeURIComponent,
      strict,
      (s: string) => strict(s).replace(/%2F/g, "/"),
      (s: string) => encodeURIComponent(s).replace(/%20/g, "+"),
      (s: string) => strict(s).replace(/%20/g, "+"),
      (s: string) => strict(s).replace(/%2F/g, "/").replace(/%20/g, "+"),
    ];
    const next = random(13);
    for (let i = 0; i < 400; i++) {
      const secret = randomText(next, 1 + Math.floor(next() * 20));
      // Neighbours of letters no form of the value contains, so no match can reach into them.
      const neighbour = () => Array.from({ length: 1 + Math.floor(next() * 5) }, () => "qjk"[Math.floor(next() * 3)]).join("");
      const [prefix, suffix] = [neighbour(), neighbour()];
      for (const encode of encoders) {
        const text = encode(prefix + secret + suffix);
        expect({ secret, text, masked: masked(secret, text) }).toEqual({ secret, text, masked: `${prefix}***${suffix}` });
      }
    }
  });
});
