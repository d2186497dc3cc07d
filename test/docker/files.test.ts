// Request files are written under /sandbox before the run; outputPaths are read back
// after it. Paths are confined to /sandbox: traversal is refused before anything runs,
// and symlinks the program plants pointing out of /sandbox are not followed.
import { afterAll, describe, expect, test } from "bun:test";
import { RequestError } from "../../src/errors";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";
import { countingDocker, rejection } from "./execution-helpers";

const engine = testEngine();
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);
const decode = (base64: string | undefined) => {
  if (base64 === undefined) throw new Error("file not returned");
  return new Uint8Array(Buffer.from(base64, "base64"));
};

describe("files in", () => {
  test("a text file is visible to the program", async () => {
    const result = await engine.execute({
      runtime: "python",
      files: { "/sandbox/in.txt": "hello file\nsecond line ✓\n" },
      code: "print(open('/sandbox/in.txt', encoding='utf-8').read(), end='')",
    });
    expect(result.stdout).toBe("hello file\nsecond line ✓\n");
  });

  test("a binary file with all 256 byte values arrives byte-identical", async () => {
    const result = await engine.execute({
      runtime: "python",
      files: { "/sandbox/all.bin": ALL_BYTES },
      code: "data = open('/sandbox/all.bin', 'rb').read()\nprint(len(data), data == bytes(range(256)))",
    });
    expect(result.stdout).toBe("256 True\n");
  });

  test("a relative path lands under /sandbox", async () => {
    const result = await engine.execute({ runtime: "bash", files: { "rel.txt": "relative" }, code: "cat /sandbox/rel.txt" });
    expect(result.stdout).toBe("relative");
  });

  test("nested paths create their parent directories", async () => {
    const result = await engine.execute({
      runtime: "bash",
      files: { "/sandbox/a/b/c/deep.txt": "deep", "x/y.txt": "why" },
      code: "cat /sandbox/a/b/c/deep.txt; echo; cat /sandbox/x/y.txt",
    });
    expect(result.stdout).toBe("deep\nwhy");
    expect(result.exitCode).toBe(0);
  });

  test("the program runs with /sandbox as a place it can read its files from", async () => {
    const result = await engine.execute({
      runtime: "node",
      files: { "/sandbox/data.json": JSON.stringify({ n: 42 }) },
      code: 'import { readFileSync } from "node:fs";\nconsole.log(JSON.parse(readFileSync("/sandbox/data.json", "utf8")).n);',
    });
    expect(result.stdout).toBe("42\n");
  });
});

describe("outputPaths", () => {
  test("a binary file the program writes comes back byte-identical", async () => {
    const result = await engine.execute({
      runtime: "python",
      outputPaths: ["/sandbox/out.bin"],
      code: "open('/sandbox/out.bin', 'wb').write(bytes(range(256)) * 4 + bytes([0, 255, 10, 13]))",
    });
    const expected = new Uint8Array([...ALL_BYTES, ...ALL_BYTES, ...ALL_BYTES, ...ALL_BYTES, 0, 255, 10, 13]);
    expect(decode(result.files?.["/sandbox/out.bin"])).toEqual(expected);
    expect(result.missingFiles).toEqual([]);
  });

  test("a binary file in, transformed by the program, round trips", async () => {
    const result = await engine.execute({
      runtime: "python",
      files: { "/sandbox/in.bin": ALL_BYTES },
      outputPaths: ["/sandbox/in.bin", "/sandbox/reversed.bin"],
      code: "data = open('/sandbox/in.bin', 'rb').read()\nopen('/sandbox/reversed.bin', 'wb').write(data[::-1])",
    });
    expect(decode(result.files?.["/sandbox/in.bin"])).toEqual(ALL_BYTES);
    expect(decode(result.files?.["/sandbox/reversed.bin"])).toEqual(ALL_BYTES.slice().reverse());
  });

  test("a nested output path is read back", async () => {
    const result = await engine.execute({
      runtime: "bash",
      outputPaths: ["/sandbox/deep/er/result.txt"],
      code: "mkdir -p /sandbox/deep/er && printf 'nested result' > /sandbox/deep/er/result.txt",
    });
    expect(Buffer.from(decode(result.files?.["/sandbox/deep/er/result.txt"])).toString()).toBe("nested result");
  });

  test("an empty file comes back as empty content, not as missing", async () => {
    const result = await engine.execute({ runtime: "bash", outputPaths: ["/sandbox/empty"], code: ": > /sandbox/empty" });
    expect(result.files?.["/sandbox/empty"]).toBe("");
    expect(result.missingFiles).toEqual([]);
  });

  test("a missing output path lands in missingFiles", async () => {
    const result = await engine.execute({
      runtime: "bash",
      outputPaths: ["/sandbox/nope.txt", "/sandbox/here.txt"],
      code: "echo present > /sandbox/here.txt",
    });
    expect(result.missingFiles).toEqual(["/sandbox/nope.txt"]);
    expect(Object.keys(result.files ?? {})).toEqual(["/sandbox/here.txt"]);
    expect(result.exitCode).toBe(0);
  });

  test("a directory is not a file to read back", async () => {
    const result = await engine.execute({ runtime: "bash", outputPaths: ["/sandbox/adir"], code: "mkdir /sandbox/adir" });
    expect(result.missingFiles).toEqual(["/sandbox/adir"]);
  });

  test("outputPaths are read back after a timeout too", async () => {
    const result = await engine.execute({
      runtime: "bash",
      timeoutMs: 500,
      outputPaths: ["/sandbox/partial.txt"],
      code: "echo partial > /sandbox/partial.txt\nsleep 600",
    });
    expect(result.timedOut).toBe(true);
    expect(Buffer.from(decode(result.files?.["/sandbox/partial.txt"])).toString()).toBe("partial\n");
  }, 60_000);
});

describe("path confinement", () => {
  const escapes = ["../etc/passwd", "/etc/passwd", "/sandbox/../x", "/sandbox/a/../../etc/passwd", "/sandbox", "/sandboxed/x"];

  for (const path of escapes) {
    test(`files path ${JSON.stringify(path)} is refused before any container is created`, async () => {
      const { docker, created } = countingDocker();
      const guarded = testEngine({ docker });
      try {
        const error = await rejection(guarded.execute({ runtime: "bash", code: "true", files: { [path]: "x" } }));
        expect(error).toBeInstanceOf(RequestError);
        expect((error as RequestError).field).toBe("files");
        expect(error.message).toContain(path);
        expect(created()).toBe(0);
      } finally {
        await guarded.stop();
      }
    });

    test(`outputPaths entry ${JSON.stringify(path)} is refused before any container is created`, async () => {
      const { docker, created } = countingDocker();
      const guarded = testEngine({ docker });
      try {
        const error = await rejection(guarded.execute({ runtime: "bash", code: "true", outputPaths: [path] }));
        expect(error).toBeInstanceOf(RequestError);
        expect((error as RequestError).field).toBe("outputPaths");
        expect(created()).toBe(0);
      } finally {
        await guarded.stop();
      }
    });
  }

  test("a file over the 64 MiB limit is refused before running", async () => {
    const { docker, created } = countingDocker();
    const guarded = testEngine({ docker });
    try {
      const error = await rejection(
        guarded.execute({ runtime: "bash", code: "true", files: { "big.bin": new Uint8Array(64 * 1024 * 1024 + 1) } }),
      );
      expect(error).toBeInstanceOf(RequestError);
      expect((error as RequestError).field).toBe("files");
      expect(created()).toBe(0);
    } finally {
      await guarded.stop();
    }
  });

  test("a symlink the program points at /etc/passwd is not followed when read back", async () => {
    const result = await engine.execute({
      runtime: "python",
      outputPaths: ["/sandbox/out.txt"],
      code: "import os\nos.symlink('/etc/passwd', '/sandbox/out.txt')\nprint(os.path.islink('/sandbox/out.txt'))",
    });
    expect(result.stdout).toBe("True\n"); // the link really was planted
    expect(result.missingFiles).toEqual(["/sandbox/out.txt"]);
    expect(result.files?.["/sandbox/out.txt"]).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain("root:x:0:0");
    expect(JSON.stringify(result)).not.toContain("cm9vdD"); // base64 of "root"
  });

  test("a relative symlink that climbs out of /sandbox is not followed", async () => {
    const result = await engine.execute({
      runtime: "python",
      outputPaths: ["/sandbox/up.txt"],
      code: "import os\nos.symlink('../etc/passwd', '/sandbox/up.txt')",
    });
    expect(result.missingFiles).toEqual(["/sandbox/up.txt"]);
    expect(result.files?.["/sandbox/up.txt"]).toBeUndefined();
  });

  test("a symlinked parent directory pointing at /etc is not followed", async () => {
    const result = await engine.execute({
      runtime: "python",
      outputPaths: ["/sandbox/d/passwd"],
      code: "import os\nos.symlink('/etc', '/sandbox/d')\nprint(os.path.exists('/sandbox/d/passwd'))",
    });
    expect(result.stdout).toBe("True\n"); // through the link the program itself reaches /etc/passwd
    expect(result.missingFiles).toEqual(["/sandbox/d/passwd"]);
    expect(result.files?.["/sandbox/d/passwd"]).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain("cm9vdD"); // base64 of "root"
  });

  test("still works: a relative symlink that stays inside /sandbox is read back", async () => {
    const result = await engine.execute({
      runtime: "python",
      outputPaths: ["/sandbox/link.txt"],
      code: "import os\nopen('/sandbox/real.txt', 'w').write('inside')\nos.symlink('real.txt', '/sandbox/link.txt')",
    });
    expect(Buffer.from(decode(result.files?.["/sandbox/link.txt"])).toString()).toBe("inside");
    expect(result.missingFiles).toEqual([]);
  });
});
