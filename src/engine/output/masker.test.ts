import { describe, expect, test } from "bun:test";
import { createMasker as createBufferMasker } from "./masker";

/** The needles as UTF-8 bytes (this file tests the streaming replacement, not what is masked). */
function createMasker(needles: string[]) {
  return createBufferMasker(needles.map((n) => Buffer.from(n, "utf8")));
}

/** Feeds chunks through a fresh masker and returns everything it passes on. */
function mask(secrets: string[], chunks: (string | Buffer)[], dropPartial = false): string {
  const masker = createMasker(secrets);
  const out: Buffer[] = [];
  for (const chunk of chunks) out.push(masker.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
  out.push(masker.flush(dropPartial));
  return Buffer.concat(out).toString("utf8");
}

/** The text cut into single bytes. */
function bytesOf(text: string): Buffer[] {
  return [...Buffer.from(text)].map((b) => Buffer.from([b]));
}

/** Every way of cutting the text into two chunks (at each byte). */
function splits(text: string): Buffer[][] {
  const bytes = Buffer.from(text);
  const out: Buffer[][] = [];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return out;
}

describe("createMasker", () => {
  test("masks a whole secret", () => {
    expect(mask(["hunter2"], ["password: hunter2\n"])).toBe("password: ***\n");
  });

  test("masks every occurrence", () => {
    expect(mask(["abc"], ["abc abc abcabc"])).toBe("*** *** ******");
  });

  test("passes text through unchanged when there are no secrets", () => {
    const masker = createMasker([]);
    const chunk = Buffer.from("nothing to hide");
    expect(masker.push(chunk)).toBe(chunk);
    expect(masker.flush().length).toBe(0);
    expect(mask([""], ["empty secrets are ignored"])).toBe("empty secrets are ignored");
  });

  test("passes text without a secret through unchanged", () => {
    expect(mask(["hunter2"], ["hello ", "world\n"])).toBe("hello world\n");
  });

  test("masks a secret split across two chunks, at every byte", () => {
    for (const chunks of splits("before SECRET-VALUE after")) {
      expect(mask(["SECRET-VALUE"], chunks)).toBe("before *** after");
    }
  });

  test("masks a secret delivered one byte at a time", () => {
    expect(mask(["SECRET-VALUE"], bytesOf("x SECRET-VALUE y SECRET-VALUE"))).toBe("x *** y ***");
  });

  test("holds back a possible secret prefix until it is decided", () => {
    const masker = createMasker(["secret"]);
    expect(masker.push(Buffer.from("a sec")).toString()).toBe("a ");
    expect(masker.push(Buffer.from("ond")).toString()).toBe("second");
    expect(masker.push(Buffer.from(" secr")).toString()).toBe(" ");
    expect(masker.push(Buffer.from("et!")).toString()).toBe("***!");
    expect(masker.flush().length).toBe(0);
  });

  test("a prefix that never completes is passed on by flush", () => {
    expect(mask(["secret"], ["the end: sec"])).toBe("the end: sec");
  });

  test("flush(dropPartial) drops a held secret prefix", () => {
    const masker = createMasker(["secret"]);
    expect(masker.push(Buffer.from("cut at sec")).toString()).toBe("cut at ");
    expect(masker.flush(true).length).toBe(0);
    expect(mask(["secret"], ["cut at secre"], true)).toBe("cut at ");
  });

  test("flush resets: nothing held leaks into later output", () => {
    const masker = createMasker(["secret"]);
    masker.push(Buffer.from("sec"));
    masker.flush(true);
    expect(masker.push(Buffer.from("ret")).toString()).toBe("ret");
  });

  test("masks two secrets", () => {
    expect(mask(["alpha", "beta"], ["alpha and beta"])).toBe("*** and ***");
    expect(mask(["alpha", "beta"], bytesOf("alpha and beta"))).toBe("*** and ***");
  });

  test("two secrets with a common prefix, one byte at a time", () => {
    const secrets = ["token-aaa", "token-bbb"];
    const text = "token-aaa token-bbb token-ccc";
    expect(mask(secrets, [text])).toBe("*** *** token-ccc");
    expect(mask(secrets, bytesOf(text))).toBe("*** *** token-ccc");
    for (const chunks of splits(text)) expect(mask(secrets, chunks)).toBe("*** *** token-ccc");
  });

  test("a secret that is a prefix of another: the longer one is masked whole", () => {
    const secrets = ["pass", "password"];
    expect(mask(secrets, ["password pass"])).toBe("*** ***");
    expect(mask(secrets, bytesOf("password pass"))).toBe("*** ***");
    for (const chunks of splits("password pass")) expect(mask(secrets, chunks)).toBe("*** ***");
  });

  test("a secret that contains another secret is masked whole, whichever chunks it comes in", () => {
    // The inner secret completes before the outer one: the outer must still be hidden entirely.
    const secrets = ["sk-live-abc123", "abc"];
    expect(mask(secrets, ["key=sk-live-abc123"])).toBe("key=***");
    for (const chunks of splits("key=sk-live-abc123")) expect(mask(secrets, chunks)).toBe("key=***");
    expect(mask(secrets, bytesOf("key=sk-live-abc123"))).toBe("key=***");
  });

  test("a secret that overlaps itself", () => {
    expect(mask(["aab"], bytesOf("aaab"))).toBe("a***");
    expect(mask(["abab"], bytesOf("ababab"))).toBe("***ab");
  });

  test("duplicate secrets are masked once", () => {
    expect(mask(["dup", "dup"], ["dup"])).toBe("***");
  });

  test("multibyte secrets (é, emoji), whole and split at every byte", () => {
    for (const secret of ["café", "🔑key🔑", "日本語"]) {
      const text = `[${secret}]`;
      expect(mask([secret], [text])).toBe("[***]");
      for (const chunks of splits(text)) expect(mask([secret], chunks)).toBe("[***]");
    }
  });

  test("a multibyte character that merely shares a first byte with the secret passes through", () => {
    // "é" is C3 A9, "è" is C3 A8: the shared lead byte is held, then released.
    expect(mask(["é"], bytesOf("è é è"))).toBe("è *** è");
  });

  test("binary data passes through byte for byte", () => {
    const data = Buffer.from([0, 255, 254, 1, 2, 3]);
    const masker = createMasker(["zz"]);
    expect(Buffer.concat([masker.push(data), masker.flush()])).toEqual(data);
  });
});

describe("createMasker against a one-shot reference", () => {
  /** Leftmost, then longest, over the whole text at once: what streaming must reproduce. */
  function reference(needles: string[], text: string): string {
    const sorted = needles.filter((n) => n).sort((a, b) => b.length - a.length);
    let out = "";
    for (let i = 0; i < text.length; ) {
      const hit = sorted.find((n) => text.startsWith(n, i));
      out += hit ? "***" : text[i];
      i += hit ? hit.length : 1;
    }
    return out;
  }

  test("random overlapping needles over a two-letter text, cut into random chunks (seeded)", () => {
    let state = 7;
    const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const word = (max: number) => Array.from({ length: 1 + Math.floor(next() * max) }, () => (next() < 0.5 ? "a" : "b")).join("");
    for (let round = 0; round < 2000; round++) {
      const needles = Array.from({ length: 1 + Math.floor(next() * 4) }, () => word(5));
      const text = word(40);
      const chunks: string[] = [];
      for (let i = 0; i < text.length; ) {
        const size = 1 + Math.floor(next() * 6);
        chunks.push(text.slice(i, i + size));
        i += size;
      }
      expect({ needles, text, out: mask(needles, chunks) }).toEqual({ needles, text, out: reference(needles, text) });
    }
  });
});
