// Output files are bounded (docs/SECURITY.md F9, F15, F16): how many paths (refused before
// anything runs), how large each file and all of them together (a per-file error in the
// result, the file never read into the engine), and spellings of one path read once.
import { afterAll, describe, expect, test } from "bun:test";
import { RequestError } from "../../src/errors";
import { testEngine } from "../helpers";
import { countingDocker, rejection } from "./execution-helpers";
import { ownedContainers } from "./owned-containers";

const counting = countingDocker();
const engine = testEngine({ docker: counting.docker });
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

/** A bash program that writes files of these sizes (bytes of "x") under /sandbox. */
const writeFiles = (sizes: Record<string, number>) =>
  Object.entries(sizes)
    .map(([name, size]) => `head -c ${size} /dev/zero | tr '\\0' x > /sandbox/${name}`)
    .join("\n");

describe("how many output paths", () => {
  test("more distinct paths than maxOutputFiles is a RequestError before any container work", async () => {
    const before = counting.created();
    const error = await rejection(engine.execute({ runtime: "bash", code: "true", outputPaths: ["a", "b", "c"], maxOutputFiles: 2 }));
    expect(error).toBeInstanceOf(RequestError);
    expect(error.message).toBe("Cannot read back 3 output paths: over the maxOutputFiles limit of 2");
    expect((error as RequestError).field).toBe("outputPaths");
    expect(counting.created()).toBe(before);
  });

  test("still works: spellings of one path count once, and the file comes back once, under its first spelling", async () => {
    const spellings = ["out.txt", "./out.txt", "/sandbox//out.txt", "/sandbox/./out.txt", ".//out.txt", "out.txt/", "/sandbox/out.txt", "./././out.txt"];
    const r = await engine.execute({ runtime: "bash", code: writeFiles({ "out.txt": 5 }), outputPaths: spellings, maxOutputFiles: 1 });
    expect(Object.keys(r.files ?? {})).toEqual(["out.txt"]);
    expect(Buffer.from(r.files!["out.txt"]!, "base64").toString()).toBe("xxxxx");
    expect(r.missingFiles).toEqual([]);
    expect(r.fileErrors).toEqual({});
  });
});

describe("how large", () => {
  test("a file over maxOutputFileSize is not read: it is in missingFiles with the reason; the others come back", async () => {
    const r = await engine.execute({
      runtime: "bash",
      code: writeFiles({ small: 1000, big: 1025 }),
      outputPaths: ["small", "big", "absent"],
      maxOutputFileSize: "1k",
    });
    expect(Buffer.from(r.files!.small!, "base64").length).toBe(1000);
    expect(r.files!.big).toBeUndefined();
    expect(r.missingFiles).toEqual(["big", "absent"]);
    expect(r.fileErrors).toEqual({
      big: "file is 1025 bytes, over the 1024 byte limit (maxOutputFileSize)",
      absent: "no such file or directory",
    });
    expect(r.exitCode).toBe(0); // an outcome of the run's files, not an error of isol8
  });

  test("the files together stay within maxOutputFilesTotal: the ones that no longer fit are reported, in order", async () => {
    const r = await engine.execute({
      runtime: "bash",
      code: writeFiles({ a: 600, b: 600, c: 300 }),
      outputPaths: ["a", "b", "c"],
      maxOutputFilesTotal: 1000,
    });
    expect(Object.keys(r.files ?? {})).toEqual(["a", "c"]);
    expect(r.missingFiles).toEqual(["b"]);
    expect(r.fileErrors).toEqual({ b: "file is 600 bytes, over the 400 byte limit (maxOutputFilesTotal)" });
  });

  test("still works: files exactly at the limits come back whole", async () => {
    const r = await engine.execute({
      runtime: "bash",
      code: writeFiles({ a: 1024, b: 976 }),
      outputPaths: ["a", "b"],
      maxOutputFileSize: "1k",
      maxOutputFilesTotal: 2000,
    });
    expect(Buffer.from(r.files!.a!, "base64").length).toBe(1024);
    expect(Buffer.from(r.files!.b!, "base64").length).toBe(976);
    expect(r.missingFiles).toEqual([]);
  });
});

describe("file encodings", () => {
  test('fileEncoding "bytes" returns the same contents as bytes, in execute and executeStream', async () => {
    const request = { runtime: "bash" as const, code: "printf 'a\\0b\\377' > /sandbox/bin", outputPaths: ["bin"] };
    const base64 = await engine.execute(request);
    const bytes = await engine.execute(request, { fileEncoding: "bytes" });
    expect(bytes.files!.bin).toBeInstanceOf(Uint8Array);
    expect([...bytes.files!.bin!]).toEqual([0x61, 0, 0x62, 0xff]);
    expect(Buffer.from(base64.files!.bin!, "base64").equals(Buffer.from(bytes.files!.bin!))).toBe(true);
    let streamed: Uint8Array | undefined;
    for await (const event of engine.executeStream(request, { fileEncoding: "bytes" })) {
      if (event.type === "exit") streamed = event.data.files?.bin;
    }
    expect([...(streamed ?? [])]).toEqual([0x61, 0, 0x62, 0xff]);
  });
});
