import { describe, expect, test } from "bun:test";
import { OutputStream, type OutputStreamOptions } from "./output-stream";

const MiB = 1024 * 1024;

function stream(options: Partial<OutputStreamOptions> = {}): { out: OutputStream; pieces: string[] } {
  const pieces: string[] = [];
  const out = new OutputStream({
    secrets: [],
    maxBytes: MiB,
    collect: true,
    onText: (text) => pieces.push(text),
    ...options,
  });
  return { out, pieces };
}

/** True when the text survives a UTF-8 round trip without replacement characters. */
function isCleanUtf8(text: string): boolean {
  return !text.includes("\uFFFD") && Buffer.from(text, "utf8").toString("utf8") === text;
}

describe("OutputStream cap (UTF-8 bytes)", () => {
  test("output of exactly maxBytes is not truncated", () => {
    const { out } = stream({ maxBytes: 100 });
    out.push(Buffer.from("x".repeat(100)));
    out.end(false);
    expect(out.truncated).toBe(false);
    expect(out.bytes).toBe(100);
    expect(out.text).toBe("x".repeat(100));
  });

  test("maxBytes + 1 bytes is truncated to maxBytes", () => {
    const { out } = stream({ maxBytes: 100 });
    out.push(Buffer.from("x".repeat(101)));
    out.end(false);
    expect(out.truncated).toBe(true);
    expect(out.bytes).toBe(100);
    expect(out.text).toBe("x".repeat(100));
  });

  test("maxBytes + 1 bytes over many chunks is truncated", () => {
    const { out } = stream({ maxBytes: 100 });
    for (let i = 0; i < 101; i++) out.push(Buffer.from("y"));
    out.end(false);
    expect(out.truncated).toBe(true);
    expect(out.text).toBe("y".repeat(100));
  });

  test("the cap counts bytes, not characters", () => {
    const { out } = stream({ maxBytes: 10 });
    out.push(Buffer.from("é".repeat(5))); // 10 bytes, 5 characters
    out.end(false);
    expect(out.truncated).toBe(false);
    const { out: over } = stream({ maxBytes: 10 });
    over.push(Buffer.from("é".repeat(6))); // 12 bytes, 6 characters
    over.end(false);
    expect(over.truncated).toBe(true);
    expect(over.text).toBe("é".repeat(5));
  });

  test("'é' x 600000 with a 1 MiB cap: valid UTF-8 of at most 1048576 bytes", () => {
    const { out } = stream({ maxBytes: MiB });
    out.push(Buffer.from("é".repeat(600_000)));
    out.end(false);
    expect(out.truncated).toBe(true);
    expect(Buffer.byteLength(out.text)).toBeLessThanOrEqual(1_048_576);
    expect(out.text).toBe("é".repeat(MiB / 2));
    expect(isCleanUtf8(out.text)).toBe(true);
  });

  test("a character straddling the cap is dropped whole, never cut", () => {
    for (const [char, cap] of [["é", 7], ["€", 8], ["🙂", 10], ["🙂", 9], ["🙂", 11]] as const) {
      const { out } = stream({ maxBytes: cap });
      out.push(Buffer.from(char.repeat(20)));
      out.end(false);
      expect(out.truncated).toBe(true);
      expect(Buffer.byteLength(out.text)).toBeLessThanOrEqual(cap);
      expect(isCleanUtf8(out.text)).toBe(true);
      const width = Buffer.byteLength(char);
      expect(out.text).toBe(char.repeat(Math.floor(cap / width)));
    }
  });

  test("multibyte characters split across chunks, with the cap mid-character", () => {
    const data = Buffer.from("ü".repeat(1000));
    const { out } = stream({ maxBytes: 1001 });
    for (const byte of data) out.push(Buffer.from([byte]));
    out.end(false);
    expect(out.text).toBe("ü".repeat(500));
    expect(isCleanUtf8(out.text)).toBe(true);
  });

  test("nothing is passed on after the cap", () => {
    const { out, pieces } = stream({ maxBytes: 5 });
    out.push(Buffer.from("123456"));
    const count = pieces.length;
    out.push(Buffer.from("more"));
    out.end(false);
    expect(pieces.length).toBe(count);
    expect(out.text).toBe("12345");
  });

  test("end(true) marks the stream truncated (the producer was cut off)", () => {
    const { out } = stream({ maxBytes: 100 });
    out.push(Buffer.from("partial"));
    out.end(true);
    expect(out.truncated).toBe(true);
    expect(out.text).toBe("partial");
  });

  test("end(true) drops an incomplete trailing character", () => {
    const { out } = stream({ maxBytes: 100 });
    out.push(Buffer.from([0x61, 0xc3])); // "a" and the first byte of "é"
    out.end(true);
    expect(out.text).toBe("a");
  });

  test("end twice and push after end change nothing", () => {
    const { out } = stream();
    out.push(Buffer.from("once"));
    out.end(false);
    out.push(Buffer.from("late"));
    out.end(true);
    expect(out.text).toBe("once");
    expect(out.truncated).toBe(false);
  });
});

describe("OutputStream masking", () => {
  test("masks a secret split across chunks", () => {
    const { out } = stream({ secrets: ["s3cr3t"] });
    for (const piece of ["val: s3", "c", "r3", "t\n"]) out.push(Buffer.from(piece));
    out.end(false);
    expect(out.text).toBe("val: ***\n");
  });

  test("mask then truncate: a secret right at the cap is masked, not shown in part", () => {
    const cap = 100;
    const secret = "TOPSECRET";
    const filler = "f".repeat(cap - 4);
    const { out } = stream({ secrets: [secret], maxBytes: cap });
    out.push(Buffer.from(filler + secret));
    out.end(true);
    expect(out.truncated).toBe(true);
    expect(out.text).toBe(`${filler}***`);
    expect(Buffer.byteLength(out.text)).toBeLessThanOrEqual(cap);
  });

  test("mask then truncate: a producer cut off inside a secret never shows its prefix", () => {
    const cap = 100;
    const secret = "TOPSECRET";
    const filler = "f".repeat(cap - 4);
    // What arrives when the supervisor stops the producer at the cap: filler + the first 4 secret bytes.
    const raw = Buffer.from(filler + secret).subarray(0, cap);
    for (let cut = 0; cut <= raw.length; cut++) {
      const { out } = stream({ secrets: [secret], maxBytes: cap });
      out.push(raw.subarray(0, cut));
      out.push(raw.subarray(cut));
      out.end(true);
      expect(out.text).toBe(filler);
      expect(out.truncated).toBe(true);
    }
  });

  test("mask then truncate: one byte at a time, the cap never reveals part of a secret", () => {
    const cap = 20;
    const secret = "PASSWORD";
    for (let fill = 0; fill <= cap; fill++) {
      const { out } = stream({ secrets: [secret], maxBytes: cap });
      for (const byte of Buffer.from(`${"-".repeat(fill)}${secret}${"-".repeat(30)}`)) out.push(Buffer.from([byte]));
      out.end(false);
      expect(out.text).not.toContain("P");
      expect(out.text).toMatch(/^-*\**-*$/);
      expect(Buffer.byteLength(out.text)).toBeLessThanOrEqual(cap);
    }
  });

  test("a multibyte secret is masked in a stream", () => {
    const { out } = stream({ secrets: ["clé🔑"] });
    for (const byte of Buffer.from("la clé🔑 est là")) out.push(Buffer.from([byte]));
    out.end(false);
    expect(out.text).toBe("la *** est là");
  });
});

describe("OutputStream masking: derived forms of a secret", () => {
  const secret = "s3cr3t välue/4711";
  const bytes = Buffer.from(secret);

  /** Base64 of filler + secret + filler with the secret at `alignment`, and what masking makes of it. */
  function base64Case(alignment: number, urlSafe: boolean): { text: string; expected: string } {
    const encode = (b: Buffer) => {
      const std = b.toString("base64");
      return urlSafe ? std.replace(/\+/g, "-").replace(/\//g, "_") : std;
    };
    // "y" (0x79) after the secret: the character shared with it is never its end form.
    const text = encode(Buffer.concat([Buffer.from("x".repeat(alignment)), bytes, Buffer.from("yy")]));
    const first = Math.ceil((8 * alignment) / 6);
    const last = Math.floor((8 * (alignment + bytes.length)) / 6);
    return { text, expected: `${text.slice(0, first)}***${text.slice(last)}` };
  }

  const cases: [string, string, string][] = [
    ...[0, 1, 2].flatMap((a) =>
      [false, true].map((url): [string, string, string] => {
        const { text, expected } = base64Case(a, url);
        return [`base64${url ? " URL-safe" : ""} at alignment ${a}`, text, expected];
      }),
    ),
    ["base64 ending the data, padded", bytes.toString("base64"), "***"],
    ["hex, lower case", `0x${bytes.toString("hex")}.`, "0x***."],
    ["hex, upper case", `0x${bytes.toString("hex").toUpperCase()}.`, "0x***."],
    ["encodeURIComponent", `?k=${encodeURIComponent(secret)}&`, "?k=***&"],
    ["form encoding", `?k=${encodeURIComponent(secret).replace(/%20/g, "+")}&`, "?k=***&"],
  ];

  test("each form, split into two chunks at every byte: masked in the collected and the streamed text", () => {
    for (const [name, form, expected] of cases) {
      const text = `é ${form} ü\n`;
      const data = Buffer.from(text);
      for (let cut = 0; cut <= data.length; cut++) {
        const { out, pieces } = stream({ secrets: [secret] });
        out.push(data.subarray(0, cut));
        out.push(data.subarray(cut));
        out.end(false);
        expect({ name, cut, text: out.text }).toEqual({ name, cut, text: `é ${expected} ü\n` });
        expect(pieces.join("")).toBe(out.text);
        expect(pieces.every(isCleanUtf8)).toBe(true);
      }
    }
  });

  test("each form, one byte at a time: masked", () => {
    for (const [name, form, expected] of cases) {
      const { out } = stream({ secrets: [secret] });
      for (const byte of Buffer.from(`[${form}]`)) out.push(Buffer.from([byte]));
      out.end(false);
      expect({ name, text: out.text }).toEqual({ name, text: `[${expected}]` });
    }
  });

  test("mask then truncate: a producer cut off anywhere inside a form never shows any of the secret's part", () => {
    for (const [name, form, expected] of cases) {
      const raw = Buffer.from(`ab${form}`);
      // The supervisor stops the producer at the cap: everything up to `cap` arrives, no more.
      for (let cap = 2; cap < raw.length; cap++) {
        const { out } = stream({ secrets: [secret], maxBytes: cap });
        out.push(raw.subarray(0, cap));
        out.end(true);
        // What is shown is a start of the masked text: the part that is "***" there never shows.
        expect({ name, cap, prefix: `ab${expected}`.startsWith(out.text) }).toEqual({ name, cap, prefix: true });
        expect(out.truncated).toBe(true);
      }
    }
  });

  test("still works: text that shares only a start with a form passes unchanged, split anywhere", () => {
    const partial = Buffer.from(secret.slice(0, 6)); // "s3cr3t"
    const text = [
      partial.toString("base64"), // base64 of the start only
      partial.toString("hex"),
      Buffer.from(secret.slice(0, 3)).toString("hex"),
      bytes.toString("base64").slice(0, 10),
      "s3cr3t välue, ordinary words, 4711",
    ].join(" ");
    const data = Buffer.from(text);
    for (let cut = 0; cut <= data.length; cut++) {
      const { out } = stream({ secrets: [secret] });
      out.push(data.subarray(0, cut));
      out.push(data.subarray(cut));
      out.end(false);
      expect(out.text).toBe(text);
    }
  });
});

describe("OutputStream text", () => {
  test("onText pieces concatenate to the collected text", () => {
    const { out, pieces } = stream({ secrets: ["key"], maxBytes: 1000 });
    const data = Buffer.from("a key, é, 🙂, another key\n".repeat(20));
    for (let i = 0; i < data.length; i += 7) out.push(data.subarray(i, i + 7));
    out.end(false);
    expect(pieces.join("")).toBe(out.text);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every(isCleanUtf8)).toBe(true);
    expect(out.text).not.toContain("key");
    expect(out.bytes).toBe(Buffer.byteLength(out.text));
  });

  test("onText pieces concatenate to the collected text when truncated", () => {
    const { out, pieces } = stream({ maxBytes: 50 });
    for (let i = 0; i < 20; i++) out.push(Buffer.from("é🙂x"));
    out.end(false);
    expect(pieces.join("")).toBe(out.text);
    expect(out.truncated).toBe(true);
  });

  test("without collect, onText still streams and text stays empty", () => {
    const { out, pieces } = stream({ collect: false });
    out.push(Buffer.from("streamed"));
    out.end(false);
    expect(pieces.join("")).toBe("streamed");
    expect(out.text).toBe("");
    expect(out.bytes).toBe(8);
  });

  test("invalid UTF-8 bytes become U+FFFD", () => {
    const { out } = stream();
    out.push(Buffer.from([0x61, 0xff, 0x62, 0xc3, 0x28, 0x63]));
    out.end(false);
    expect(out.text).toBe("a\uFFFDb\uFFFD(c");
  });

  test("a truncated character at the end of a complete stream becomes U+FFFD", () => {
    const { out } = stream();
    out.push(Buffer.from([0x61, 0xe2, 0x82]));
    out.end(false);
    expect(out.text).toBe("a\uFFFD");
  });

  test("a character split across chunks is decoded whole", () => {
    const { out, pieces } = stream();
    const bytes = Buffer.from("🙂");
    for (const byte of bytes) out.push(Buffer.from([byte]));
    out.end(false);
    expect(out.text).toBe("🙂");
    expect(pieces).toEqual(["🙂"]);
  });

  test("empty output", () => {
    const { out, pieces } = stream();
    out.end(false);
    expect(out.text).toBe("");
    expect(out.truncated).toBe(false);
    expect(pieces).toEqual([]);
  });
});

describe("OutputStream exact bytes", () => {
  const pushAll = (chunks: number[][], options: Partial<OutputStreamOptions> = {}) => {
    const raw: Buffer[] = [];
    const texts: string[] = [];
    const out = new OutputStream({
      secrets: [],
      maxBytes: MiB,
      collect: true,
      onText: (text, bytes) => {
        texts.push(text);
        raw.push(bytes ?? Buffer.from(text, "utf8"));
      },
      ...options,
    });
    for (const chunk of chunks) out.push(Buffer.from(chunk));
    return { out, raw, texts };
  };

  test("valid UTF-8: no exact bytes (the text is exact)", () => {
    const { out } = pushAll([[0x61, 0xc3], [0xa9, 0x0a]]);
    out.end(false);
    expect(out.text).toBe("aé\n");
    expect(out.exactBytes).toBeNull();
  });

  test("ff fe 41: the exact bytes are kept, the text has U+FFFD", () => {
    const { out, raw } = pushAll([[0xff, 0xfe, 0x41]]);
    out.end(false);
    expect(out.text).toBe("\uFFFD\uFFFDA");
    expect([...out.exactBytes!]).toEqual([0xff, 0xfe, 0x41]);
    expect([...Buffer.concat(raw)]).toEqual([0xff, 0xfe, 0x41]);
  });

  test("every byte value, split at every offset: the streamed and collected bytes are the input", () => {
    const all = Array.from({ length: 256 }, (_, i) => i);
    for (let cut = 0; cut <= all.length; cut++) {
      const { out, raw } = pushAll([all.slice(0, cut), all.slice(cut)]);
      out.end(false);
      expect(Buffer.concat(raw).equals(Buffer.from(all))).toBe(true);
      expect(out.exactBytes!.equals(Buffer.from(all))).toBe(true);
    }
  });

  test("a lone lead byte at the end of a complete stream is passed on as a byte", () => {
    const { out } = pushAll([[0x61, 0xe2, 0x82]]);
    out.end(false);
    expect([...out.exactBytes!]).toEqual([0x61, 0xe2, 0x82]);
  });

  test("a long run of bytes that are not UTF-8 is capped at exactly maxBytes", () => {
    const { out } = pushAll([new Array(100).fill(0x80)], { maxBytes: 10 });
    out.end(false);
    expect(out.truncated).toBe(true);
    expect(out.exactBytes!.length).toBe(10);
  });

  test("masking works on bytes around bytes that are not UTF-8", () => {
    const secret = "sk-0123456789";
    const { out } = pushAll([[0xff, ...Buffer.from(secret.slice(0, 5))], [...Buffer.from(secret.slice(5)), 0xfe]], { secrets: [secret] });
    out.end(false);
    expect([...out.exactBytes!]).toEqual([0xff, ...Buffer.from("***"), 0xfe]);
  });
});

