// Every runtime against a real container: inline hello world, exit codes and stderr,
// Node's .cjs/.mjs module semantics, standard input.
import { afterAll, describe, expect, test } from "bun:test";
import type { RuntimeName } from "../../src/protocol/execution";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";

const engine = testEngine();
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

describe("hello world, inline, per runtime", () => {
  const cases: { runtime: RuntimeName; code: string; greeting: string }[] = [
    { runtime: "python", code: 'print("hello from python")', greeting: "hello from python\n" },
    // Node's default for inline code is .mjs: top-level await only parses as an ES module.
    { runtime: "node", code: 'await Promise.resolve();\nconsole.log("hello from node")', greeting: "hello from node\n" },
    // Type annotations prove the file really runs as TypeScript (.ts for bun, .mts for deno).
    { runtime: "bun", code: 'const who: string = "bun";\nconsole.log(`hello from ${who}`);', greeting: "hello from bun\n" },
    { runtime: "deno", code: 'const who: string = "deno";\nconsole.log(`hello from ${who}`);', greeting: "hello from deno\n" },
    { runtime: "bash", code: 'who=bash\necho "hello from $who"', greeting: "hello from bash\n" },
  ];
  for (const { runtime, code, greeting } of cases) {
    test(`${runtime} prints its greeting`, async () => {
      const result = await engine.execute({ runtime, code });
      expect(result.stdout).toBe(greeting);
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(result.runtime).toBe(runtime);
      expect(result.timedOut).toBe(false);
      expect(result.truncated).toBe(false);
    });
  }

  test("the runtime defaults to python", async () => {
    const result = await engine.execute({ code: "import sys; print(sys.version_info[0])" });
    expect(result.runtime).toBe("python");
    expect(result.stdout).toBe("3\n");
  });
});

describe("non-zero exit codes pass through, with stderr captured", () => {
  test("python sys.exit(3)", async () => {
    const result = await engine.execute({
      runtime: "python",
      code: 'import sys\nprint("to stdout")\nprint("python failed", file=sys.stderr)\nsys.exit(3)',
    });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe("to stdout\n");
    expect(result.stderr).toBe("python failed\n");
    expect(result.timedOut).toBe(false);
  });

  test("node process.exit(4)", async () => {
    const result = await engine.execute({ runtime: "node", code: 'console.error("node failed");\nprocess.exit(4);' });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toBe("node failed\n");
    expect(result.stdout).toBe("");
  });

  test("bash exit 5", async () => {
    const result = await engine.execute({ runtime: "bash", code: "echo bash failed >&2\nexit 5" });
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toBe("bash failed\n");
  });

  test("bun process.exit(7) and Deno.exit(6)", async () => {
    const bunResult = await engine.execute({ runtime: "bun", code: 'console.error("bun failed");\nprocess.exit(7);' });
    expect(bunResult.exitCode).toBe(7);
    expect(bunResult.stderr).toBe("bun failed\n");
    const denoResult = await engine.execute({ runtime: "deno", code: 'console.error("deno failed");\nDeno.exit(6);' });
    expect(denoResult.exitCode).toBe(6);
    expect(denoResult.stderr).toBe("deno failed\n");
  });

  test("an uncaught python exception exits 1 with its traceback on stderr", async () => {
    const result = await engine.execute({ runtime: "python", code: 'raise ValueError("boom-7731")' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("Traceback (most recent call last)");
    expect(result.stderr).toContain("ValueError: boom-7731");
  });

  test("a program killed by a signal reports 128 + signal", async () => {
    const result = await engine.execute({ runtime: "bash", code: "kill -TERM $$" });
    expect(result.exitCode).toBe(143);
    expect(result.timedOut).toBe(false);
  });
});

describe("node module semantics by file extension", () => {
  test(".cjs runs as CommonJS: require and module exist", async () => {
    const result = await engine.execute({
      runtime: "node",
      fileExtension: ".cjs",
      code: 'console.log(typeof require, typeof module, require("node:path").posix.join("a", "b"));',
    });
    expect(result.stdout).toBe("function object a/b\n");
    expect(result.exitCode).toBe(0);
  });

  test(".mjs runs as an ES module: no require, import.meta and static import work", async () => {
    const result = await engine.execute({
      runtime: "node",
      fileExtension: ".mjs",
      code: 'import { posix } from "node:path";\nconsole.log(typeof require);\nconsole.log(import.meta.url);\nconsole.log(posix.join("a", "b"));',
    });
    const [requireType, url, joined] = result.stdout.trimEnd().split("\n");
    expect(requireType).toBe("undefined");
    expect(url).toStartWith("file:///sandbox/");
    expect(url).toEndWith(".mjs");
    expect(joined).toBe("a/b");
    expect(result.exitCode).toBe(0);
  });

  test("inline node code defaults to .mjs", async () => {
    const result = await engine.execute({ runtime: "node", code: "console.log(typeof require, import.meta.url.endsWith('.mjs'))" });
    expect(result.stdout).toBe("undefined true\n");
  });

  test("require under .mjs is a ReferenceError, not a silent success", async () => {
    const result = await engine.execute({ runtime: "node", fileExtension: ".mjs", code: 'require("node:fs");' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("ReferenceError");
    expect(result.stderr).toContain("require is not defined");
  });

  test(".js runs as CommonJS", async () => {
    const result = await engine.execute({ runtime: "node", fileExtension: ".js", code: "console.log(typeof require, typeof module);" });
    expect(result.stdout).toBe("function object\n");
  });
});

describe("standard input", () => {
  test("python reads stdin and echoes it", async () => {
    const input = "line one\nline two with ünïcödé\n";
    const result = await engine.execute({ runtime: "python", stdin: input, code: "import sys\nsys.stdout.write(sys.stdin.read())" });
    expect(result.stdout).toBe(input);
    expect(result.exitCode).toBe(0);
  });

  test("stdin larger than a pipe buffer arrives whole", async () => {
    const input = "0123456789abcdef\n".repeat(20_000); // 340,000 bytes, several pipe buffers
    const result = await engine.execute({
      runtime: "python",
      stdin: input,
      code: "import sys, hashlib\ndata = sys.stdin.buffer.read()\nprint(len(data), hashlib.sha256(data).hexdigest())",
    });
    const hash = new Bun.CryptoHasher("sha256").update(input).digest("hex");
    expect(result.stdout).toBe(`${input.length} ${hash}\n`);
  });

  test("without stdin, input() raises EOFError at once instead of waiting", async () => {
    // A hang would run into the timeout: timedOut true and no output.
    const result = await engine.execute({
      runtime: "python",
      timeoutMs: 20_000,
      code: 'try:\n    input()\nexcept EOFError:\n    print("EOF")',
    });
    expect(result.timedOut).toBe(false);
    expect(result.stdout).toBe("EOF\n");
    expect(result.exitCode).toBe(0);
  });

  test("an empty stdin string is an immediate end of input too", async () => {
    const result = await engine.execute({
      runtime: "python",
      stdin: "",
      timeoutMs: 20_000,
      code: "import sys\nprint(repr(sys.stdin.read()))",
    });
    expect(result.timedOut).toBe(false);
    expect(result.stdout).toBe("''\n");
  });

  test("bash read sees stdin line by line", async () => {
    const result = await engine.execute({
      runtime: "bash",
      stdin: "alpha\nbeta\n",
      code: 'while read -r line; do echo "got:$line"; done',
    });
    expect(result.stdout).toBe("got:alpha\ngot:beta\n");
  });
});

describe("environment", () => {
  test("env variables reach the program", async () => {
    const result = await engine.execute({
      runtime: "node",
      env: { GREETING: "hi there", EMPTY: "" },
      code: "console.log(JSON.stringify([process.env.GREETING, process.env.EMPTY]))",
    });
    expect(result.stdout).toBe('["hi there",""]\n');
  });
});
