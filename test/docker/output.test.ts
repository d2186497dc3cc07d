// Output is capped in BYTES per stream (default 1 MiB), in both the collected and the
// streaming path; the producer is stopped at the cap; the result says truncated; a
// multibyte character is never cut into invalid text.
import { afterAll, describe, expect, test } from "bun:test";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";
import { bytes, streamRun } from "./execution-helpers";

const MIB = 1_048_576;
const engine = testEngine();
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

/** Python writing `count` copies of `text` to stdout (fd 1, or 2 for stderr) in one call. */
const flood = (text: string, count: number, stream: "stdout" | "stderr" = "stdout") =>
  `import sys\nsys.${stream}.write(${JSON.stringify(text)} * ${count})\nsys.${stream}.flush()`;

describe("output cap, collected (execute)", () => {
  test("a 5 MB flood is cut at exactly 1 MiB by default", async () => {
    const result = await engine.execute({ runtime: "python", code: "print('x' * 5_000_000)" });
    expect(result.truncated).toBe(true);
    expect(bytes(result.stdout)).toBe(MIB);
    expect(result.stdout).toBe("x".repeat(MIB));
    expect(result.resourceUsage.killReason).toBe("output-cap");
  }, 60_000);

  test("maxOutputSize 1000 cuts at exactly 1000 bytes", async () => {
    const result = await engine.execute({ runtime: "python", maxOutputSize: 1000, code: "print('x' * 5_000_000)" });
    expect(result.truncated).toBe(true);
    expect(result.stdout).toBe("x".repeat(1000));
  }, 60_000);

  test("maxOutputSize accepts a size string", async () => {
    const result = await engine.execute({ runtime: "python", maxOutputSize: "2k", code: "print('x' * 5_000_000)" });
    expect(result.truncated).toBe(true);
    expect(bytes(result.stdout)).toBe(2048);
  }, 60_000);

  test("output of exactly the cap is complete and not truncated", async () => {
    const result = await engine.execute({ runtime: "python", maxOutputSize: 1000, code: flood("y", 1000) });
    expect(result.truncated).toBe(false);
    expect(result.stdout).toBe("y".repeat(1000));
    expect(result.exitCode).toBe(0);
  }, 60_000);

  test("output of the cap plus one byte is truncated to the cap", async () => {
    const result = await engine.execute({ runtime: "python", maxOutputSize: 1000, code: flood("y", 1001) });
    expect(result.truncated).toBe(true);
    expect(result.stdout).toBe("y".repeat(1000));
  }, 60_000);

  test("the producer is stopped at the cap: an endless writer ends without a timeout", async () => {
    const result = await engine.execute({
      runtime: "python",
      timeoutMs: 60_000,
      maxOutputSize: 10_000,
      code: "while True:\n    print('z' * 1000, flush=True)",
    });
    expect(result.timedOut).toBe(false);
    expect(result.truncated).toBe(true);
    expect(bytes(result.stdout)).toBe(10_000);
    expect(result.resourceUsage.killReason).toBe("output-cap");
  }, 90_000);
});

describe("output cap, streaming (executeStream)", () => {
  test("a 5 MB flood stops at exactly 1 MiB and the exit event says truncated", async () => {
    const run = await streamRun(engine, { runtime: "python", code: "print('x' * 5_000_000)" });
    expect(run.exit.truncated).toBe(true);
    expect(bytes(run.stdout)).toBe(MIB);
    expect(run.stdout).toBe("x".repeat(MIB));
  }, 60_000);

  test("maxOutputSize 1000 stops the stream at exactly 1000 bytes", async () => {
    const run = await streamRun(engine, { runtime: "python", maxOutputSize: 1000, code: "print('x' * 5_000_000)" });
    expect(run.exit.truncated).toBe(true);
    expect(run.stdout).toBe("x".repeat(1000));
  }, 60_000);

  test("an endless streamed writer is stopped at the cap", async () => {
    const run = await streamRun(engine, {
      runtime: "python",
      timeoutMs: 60_000,
      maxOutputSize: 10_000,
      code: "while True:\n    print('z' * 1000, flush=True)",
    });
    expect(run.exit.timedOut).toBe(false);
    expect(run.exit.truncated).toBe(true);
    expect(bytes(run.stdout)).toBe(10_000);
  }, 90_000);

  test("output of exactly the cap streams whole and is not truncated", async () => {
    const run = await streamRun(engine, { runtime: "python", maxOutputSize: 1000, code: flood("y", 1000) });
    expect(run.exit.truncated).toBe(false);
    expect(run.stdout).toBe("y".repeat(1000));
  }, 60_000);
});

describe("stdout and stderr are capped independently", () => {
  test("each stream may use the whole cap: 900 + 900 bytes under a 1000-byte cap are complete", async () => {
    const result = await engine.execute({
      runtime: "python",
      maxOutputSize: 1000,
      code: `${flood("o", 900)}\n${flood("e", 900, "stderr")}`,
    });
    expect(result.truncated).toBe(false);
    expect(result.stdout).toBe("o".repeat(900));
    expect(result.stderr).toBe("e".repeat(900));
  }, 60_000);

  test("a stdout flood is cut at the cap while stderr written before it stays whole", async () => {
    const result = await engine.execute({
      runtime: "python",
      maxOutputSize: 1000,
      code: `${flood("e", 999, "stderr")}\n${flood("o", 5000)}`,
    });
    expect(result.truncated).toBe(true);
    expect(result.stdout).toBe("o".repeat(1000));
    expect(result.stderr).toBe("e".repeat(999));
  }, 60_000);

  test("a stderr flood is cut at the cap while stdout written before it stays whole", async () => {
    const result = await engine.execute({
      runtime: "python",
      maxOutputSize: 1000,
      code: `${flood("o", 999)}\n${flood("e", 5000, "stderr")}`,
    });
    expect(result.truncated).toBe(true);
    expect(result.stderr).toBe("e".repeat(1000));
    expect(result.stdout).toBe("o".repeat(999));
  }, 60_000);

  test("streaming: a stderr flood is capped at exactly the cap", async () => {
    const run = await streamRun(engine, { runtime: "python", maxOutputSize: 1000, code: flood("e", 5000, "stderr") });
    expect(run.exit.truncated).toBe(true);
    expect(run.stderr).toBe("e".repeat(1000));
    expect(run.stdout).toBe("");
  }, 60_000);
});

describe("multibyte output is never cut into invalid text", () => {
  const valid = (text: string, char: string) => {
    expect(text).not.toContain("\uFFFD");
    expect(text).toBe(char.repeat([...text].length));
  };

  test("'é' * 600000 under the default cap: whole characters only, at most 1 MiB", async () => {
    const result = await engine.execute({ runtime: "python", code: "print('é' * 600000)" });
    expect(result.truncated).toBe(true);
    expect(bytes(result.stdout)).toBeLessThanOrEqual(MIB);
    valid(result.stdout, "é");
    // 2-byte characters fill an even cap exactly.
    expect(bytes(result.stdout)).toBe(MIB);
  }, 60_000);

  test("an odd cap that falls inside a 2-byte character drops the half character", async () => {
    const result = await engine.execute({ runtime: "python", maxOutputSize: 1001, code: "print('é' * 600000)" });
    expect(result.truncated).toBe(true);
    valid(result.stdout, "é");
    expect(bytes(result.stdout)).toBe(1000);
  }, 60_000);

  test("3-byte and 4-byte characters are cut on a character boundary", async () => {
    const euro = await engine.execute({ runtime: "python", maxOutputSize: 1000, code: "print('€' * 5000)" });
    expect(euro.truncated).toBe(true);
    valid(euro.stdout, "€");
    expect(bytes(euro.stdout)).toBe(999);

    const emoji = await engine.execute({ runtime: "python", maxOutputSize: 1002, code: "print('😀' * 5000)" });
    expect(emoji.truncated).toBe(true);
    valid(emoji.stdout, "😀");
    expect(bytes(emoji.stdout)).toBe(1000);
  }, 60_000);

  test("streaming: no chunk and no joined output carries a broken character", async () => {
    const run = await streamRun(engine, { runtime: "python", code: "print('é' * 600000)" });
    expect(run.exit.truncated).toBe(true);
    for (const chunk of run.stdoutChunks) expect(chunk).not.toContain("\uFFFD");
    expect(bytes(run.stdout)).toBeLessThanOrEqual(MIB);
    valid(run.stdout, "é");
  }, 60_000);

  test("streaming: a character split across two flushed writes arrives whole", async () => {
    const run = await streamRun(engine, {
      runtime: "python",
      code: "import os, time\nos.write(1, b'a\\xc3')\ntime.sleep(0.2)\nos.write(1, b'\\xa9b')",
    });
    expect(run.stdout).toBe("aéb");
    for (const chunk of run.stdoutChunks) expect(chunk).not.toContain("\uFFFD");
  }, 60_000);

  test("untruncated multibyte output split across pipe reads arrives intact", async () => {
    // 3-byte characters over many 64 KiB pipe reads: chunk boundaries fall inside characters.
    const result = await engine.execute({ runtime: "python", code: "import sys\nsys.stdout.write('€' * 100_000)" });
    expect(result.truncated).toBe(false);
    expect(result.stdout).toBe("€".repeat(100_000));
  }, 60_000);
});
