import { describe, expect, test } from "bun:test";
import { jsonChunks } from "./json-chunks";

/** What the pieces must equal: JSON.stringify with every Uint8Array as its base64. */
const reference = (value: unknown) =>
  JSON.stringify(value, function (this: Record<string, unknown>, key, converted: unknown) {
    const raw = this[key]; // before toJSON (a Buffer's toJSON would hide that it is bytes)
    return raw instanceof Uint8Array ? Buffer.from(raw).toString("base64") : converted;
  });

const bytes = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (i * seed + 3) % 256);

describe("jsonChunks", () => {
  test.each<[string, unknown]>([
    ["a string with quotes, a line break and a separator", 'a"b\nc\u2028d'],
    ["numbers, booleans, null", [1, -0.5, true, false, null]],
    ["nested objects and arrays", { a: { b: [1, { c: "x" }] }, d: [] }],
    ["undefined properties are left out, undefined items are null", { a: undefined, b: [undefined, () => 1], c: 1 }],
    ["a Date (toJSON)", { at: new Date(0) }],
    ["empty bytes", { f: new Uint8Array(0) }],
    ["bytes of every slice remainder", { a: bytes(1), b: bytes(2), c: bytes(3), d: bytes(49_153) }],
    ["a Buffer view into a larger buffer", { f: Buffer.from(bytes(100)).subarray(10, 60) }],
    ["a result-shaped value with 300 KiB of file bytes", { exitCode: 0, stdout: "hi\n", files: { "out.bin": bytes(300 * 1024, 13), "b.txt": Buffer.from("x") }, missingFiles: [] }],
  ])("%s: the pieces join to the reference JSON", (_, value) => {
    const text = [...jsonChunks(value)].join("");
    expect(text).toBe(reference(value));
    expect(text).not.toMatch(/[\r\n]/);
  });

  test("a large file is produced in bounded pieces, lazily", () => {
    const file = bytes(2 * 1024 * 1024);
    const pieces = jsonChunks({ files: { big: file } });
    const first = pieces.next();
    expect(first.done).toBe(false);
    // Nothing like the whole base64 (2.7 M characters) is produced up front.
    expect((first.value as string).length).toBeLessThan(200 * 1024);
    let longest = (first.value as string).length;
    for (const piece of pieces) longest = Math.max(longest, piece.length);
    expect(longest).toBeLessThan(200 * 1024);
  });

  test("the pieces decode back to the same bytes", () => {
    const file = bytes(123_457, 31);
    const parsed = JSON.parse([...jsonChunks({ files: { f: file } })].join("")) as { files: { f: string } };
    expect(Buffer.from(parsed.files.f, "base64").equals(Buffer.from(file))).toBe(true);
  });
});
