// Secret values are replaced by *** in all output, collected and streamed, including a
// secret split across writes. One residual is pinned as documented behaviour: a secret
// split across the two streams shows each half in its own stream.
import { afterAll, describe, expect, test } from "bun:test";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";
import { streamRun } from "./execution-helpers";

const SECRET = "s3cr3t-value-4711";
const secrets = { TOKEN: SECRET };
const engine = testEngine();
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

/** Python: the secret's first five characters, flushed, a pause, then the rest. */
const SPLIT_ACROSS_WRITES = [
  "import os, sys, time",
  "t = os.environ['TOKEN']",
  "sys.stdout.write(t[:5]); sys.stdout.flush()",
  "time.sleep(0.2)",
  "print(t[5:])",
].join("\n");

describe("secret masking", () => {
  test("a secret printed whole is *** in stdout, stderr and a traceback", async () => {
    const result = await engine.execute({
      runtime: "python",
      secrets,
      code: [
        "import os, sys",
        "t = os.environ['TOKEN']",
        "print('out:', t)",
        "print('err:', t, file=sys.stderr)",
        "raise RuntimeError('leaked ' + t)",
      ].join("\n"),
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("out: ***\n");
    expect(result.stderr).toContain("err: ***\n");
    expect(result.stderr).toContain("RuntimeError: leaked ***");
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  test("the program itself sees the real value", async () => {
    const result = await engine.execute({
      runtime: "python",
      secrets,
      code: `import os\nprint(os.environ['TOKEN'] == ${JSON.stringify(SECRET)}, len(os.environ['TOKEN']))`,
    });
    expect(result.stdout).toBe(`True ${SECRET.length}\n`);
  });

  test("several occurrences on one line and in other runtimes are all masked", async () => {
    const result = await engine.execute({
      runtime: "node",
      secrets,
      code: "const t = process.env.TOKEN; console.log(`${t}|${t}${t}|x${t}y`); console.error(t);",
    });
    expect(result.stdout).toBe("***|******|x***y\n");
    expect(result.stderr).toBe("***\n");
  });

  test("streaming: a secret printed whole never appears in any event", async () => {
    const run = await streamRun(engine, {
      runtime: "bash",
      secrets,
      code: 'echo "out: $TOKEN"\necho "err: $TOKEN" >&2',
    });
    expect(run.stdout).toBe("out: ***\n");
    expect(run.stderr).toBe("err: ***\n");
    expect(JSON.stringify(run.events)).not.toContain(SECRET);
  });

  test("split across two flushed writes 0.2 s apart: masked in execute()", async () => {
    const result = await engine.execute({ runtime: "python", secrets, code: SPLIT_ACROSS_WRITES });
    expect(result.stdout).toBe("***\n");
    expect(result.stdout).not.toContain(SECRET.slice(0, 5));
  });

  test("split across two flushed writes 0.2 s apart: masked in executeStream(), no event holds a half", async () => {
    const run = await streamRun(engine, { runtime: "python", secrets, code: SPLIT_ACROSS_WRITES });
    expect(run.stdout).toBe("***\n");
    for (const chunk of run.stdoutChunks) {
      expect(chunk).not.toContain(SECRET.slice(0, 5));
      expect(chunk).not.toContain(SECRET.slice(5));
    }
  });

  test("split into single-character writes: still masked", async () => {
    const result = await engine.execute({
      runtime: "python",
      secrets,
      code: "import os, sys, time\nfor c in os.environ['TOKEN']:\n    sys.stdout.write(c); sys.stdout.flush(); time.sleep(0.01)\nprint()",
    });
    expect(result.stdout).toBe("***\n");
  });

  test("many secrets in a large output, across pipe-read boundaries, are all masked in both paths", async () => {
    // ~300 KB in one write: the 64 KiB pipe reads cut through secrets at varying offsets.
    const code = "import os, sys\nsys.stdout.write(('x' * 1000 + os.environ['TOKEN']) * 300)";
    const expected = `${"x".repeat(1000)}***`.repeat(300);
    const result = await engine.execute({ runtime: "python", secrets, code });
    expect(result.stdout).toBe(expected);
    const run = await streamRun(engine, { runtime: "python", secrets, code });
    expect(run.stdout).toBe(expected);
  });

  test("a prefix of the secret that never completes is passed on unchanged", async () => {
    const result = await engine.execute({
      runtime: "python",
      secrets,
      code: "import os, sys, time\nt = os.environ['TOKEN']\nsys.stdout.write(t[:5]); sys.stdout.flush()\ntime.sleep(0.2)\nprint('-other')",
    });
    expect(result.stdout).toBe(`${SECRET.slice(0, 5)}-other\n`);
  });

  test("a secret cut by the output cap is never half shown", async () => {
    // The cap falls 2 bytes into the secret: neither the secret nor its start may appear.
    const result = await engine.execute({
      runtime: "python",
      secrets,
      maxOutputSize: 1000,
      code: "import os, sys\nsys.stdout.write('a' * 998 + os.environ['TOKEN'] + 'b' * 5000)",
    });
    expect(result.truncated).toBe(true);
    expect(result.stdout.startsWith("a".repeat(998))).toBe(true);
    expect(result.stdout.slice(998)).not.toContain(SECRET.slice(0, 2));
    expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(1000);
  });

  test("documented residual: a secret split across stdout and stderr shows each half in its own stream, never whole", async () => {
    // The masker works per stream; a secret whose halves go to different streams is not
    // recognised. This pins the documented limitation: each half appears where it was
    // written, the whole value appears in neither stream.
    const code = [
      "import os, sys",
      "t = os.environ['TOKEN']",
      "sys.stdout.write(t[:8]); sys.stdout.flush()",
      "sys.stderr.write(t[8:]); sys.stderr.flush()",
    ].join("\n");
    const result = await engine.execute({ runtime: "python", secrets, code });
    expect(result.stdout).toBe(SECRET.slice(0, 8));
    expect(result.stderr).toBe(SECRET.slice(8));
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stderr).not.toContain(SECRET);

    const run = await streamRun(engine, { runtime: "python", secrets, code });
    expect(run.stdout).toBe(SECRET.slice(0, 8));
    expect(run.stderr).toBe(SECRET.slice(8));
  });

  test("documented: files read back through outputPaths are not masked", async () => {
    const result = await engine.execute({
      runtime: "python",
      secrets,
      outputPaths: ["/sandbox/token.txt"],
      code: "import os\nopen('/sandbox/token.txt', 'w').write(os.environ['TOKEN'])\nprint('written', os.environ['TOKEN'])",
    });
    expect(result.stdout).toBe("written ***\n");
    expect(Buffer.from(result.files!["/sandbox/token.txt"]!, "base64").toString("utf8")).toBe(SECRET);
  });

  test("a secret that extends another is masked whole, not as *** plus a tail", async () => {
    const result = await engine.execute({
      runtime: "bash",
      secrets: { SHORT: "abc-key", LONG: "abc-key-extended" },
      code: 'echo "$LONG"; echo "$SHORT"',
    });
    expect(result.stdout).toBe("***\n***\n");
  });

  test("secrets with multibyte and regex-special characters are masked", async () => {
    const result = await engine.execute({
      runtime: "python",
      secrets: { UNI: "pässwörd-ß-€", SPECIAL: "a.b*c+(d)?" },
      code: "import os\nprint(os.environ['UNI'], os.environ['SPECIAL'], 'a.b')",
    });
    expect(result.stdout).toBe("*** *** a.b\n");
  });

  test("plain env values are not masked", async () => {
    const result = await engine.execute({ runtime: "bash", env: { PLAIN: "visible-value" }, secrets, code: 'echo "$PLAIN"' });
    expect(result.stdout).toBe("visible-value\n");
  });
});
