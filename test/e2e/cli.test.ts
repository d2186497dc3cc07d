// The compiled binary as a user runs it (NO_COLOR=1): output and exit codes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { BINARY, runBinary, TEST_IMAGES, TEST_SCOPE } from "../helpers";

const env = { ISOL8_SCOPE: TEST_SCOPE };
let work: string;

beforeAll(() => {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);
  work = mkdtempSync(join(tmpdir(), "isol8-e2e-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (args: string[], options: Parameters<typeof runBinary>[1] = {}) =>
  runBinary(args, { cwd: work, ...options, env: { ...env, ...options.env } });

describe("binary", () => {
  test("--version prints the package version", () => {
    const r = run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  test("works when copied alone into an empty directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "isol8-alone-"));
    try {
      copyFileSync(BINARY, join(dir, "isol8"));
      const r = runBinary(["run", "-e", "print(6*7)"], { cwd: dir, env: { ...env, HOME: dir } });
      expect(r.stdout).toBe("42\n");
      expect(r.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("no arguments prints usage and exits 0; an unknown command exits 2", () => {
    const bare = run([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain("USAGE");
    const r = run(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  test("help on a pipe carries no escape sequence, even without NO_COLOR", () => {
    for (const args of [[], ["--help"], ["help"], ["help", "run"], ["run", "--help"]]) {
      const r = runBinary(args, { cwd: work, env: { ...env, NO_COLOR: "", TERM: "xterm-256color" } });
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain("\x1b");
    }
  });

  test("flag errors name the flag and what it accepts (exit 2)", () => {
    const cases: [string[], string][] = [
      [["run", "-r", "bogus", "-e", "1"], 'Cannot use --runtime "bogus": unknown runtime\nhint: expected python | node | bun | deno | bash'],
      [["run", "--net", "bogus", "-e", "1"], 'Cannot use --net "bogus": expected none | filtered | host'],
      [["run", "--install", "--evil", "-e", "1"], 'Cannot install "--evil": not a plain python package name (--install)'],
      [["run", "--secret", "A=abc", "-e", "1"], "Cannot use --secret: A: must be at least 4 bytes"],
      [["run", "--stream=maybe", "-e", "1"], "Cannot use --stream=maybe: it is a switch (true or false)"],
      [["serve", "--port", "abc", "--key", "k"], 'Cannot use --port "abc": expected a port 0-65535'],
      [["build", "--base", "bash", "--install", "jq"], 'Cannot use --base "bash" with --install: expected python | node | bun | deno (--apt works with any runtime)'],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(message);
    }
  });

  test("isol8 help <command> prints that command's help; an unknown topic exits 2", () => {
    const r = run(["help", "run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--stdin-file");
    expect(r.stdout).toBe(run(["run", "--help"]).stdout);
    const bad = run(["help", "frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Cannot show help for "frobnicate": unknown command');
  });
});

describe("run: hardening visible to the program", () => {
  test("the program runs as a non-root uid", () => {
    const r = run(["run", "-e", "import os; print(os.getuid())"]);
    expect(r.code).toBe(0);
    expect(Number(r.stdout.trim())).toBeGreaterThan(0);
  });

  test("writing outside /sandbox fails with a read-only error", () => {
    const r = run(["run", "-e", "open('/etc/x','w')"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Read-only file system");
  });

  test("still works: writing inside /sandbox succeeds", () => {
    const r = run(["run", "-e", "open('/sandbox/x','w').write('ok'); print(open('/sandbox/x').read())"]);
    expect(r.stdout).toBe("ok\n");
    expect(r.code).toBe(0);
  });
});

describe("run: code sources and runtimes", () => {
  const hello: Record<string, string> = {
    "hello.py": 'print("hello from python")',
    "hello.mjs": 'console.log("hello from " + (typeof require === "undefined" ? "esm" : "cjs"))',
    "hello.cjs": 'console.log("hello from " + (typeof require === "undefined" ? "esm" : "cjs"))',
    "hello.ts": 'const who: string = "bun"; console.log(`hello from ${who}`)',
    "hello.mts": 'console.log("hello from deno " + Deno.version.deno.split(".")[0])',
    "hello.sh": 'echo "hello from bash"',
  };
  const expected: Record<string, string> = {
    "hello.py": "hello from python\n",
    "hello.mjs": "hello from esm\n",
    "hello.cjs": "hello from cjs\n",
    "hello.ts": "hello from bun\n",
    "hello.mts": "hello from deno 2\n",
    "hello.sh": "hello from bash\n",
  };
  for (const [file, code] of Object.entries(hello)) {
    test(`isol8 run ${file}`, () => {
      writeFileSync(join(work, file), code);
      const r = run(["run", file]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(expected[file]!);
      expect(r.code).toBe(0);
    });
  }

  test("code on standard input with -r node", () => {
    const r = run(["run", "-r", "node"], { input: "console.log(1+1)\n" });
    expect(r.stdout).toBe("2\n");
    expect(r.code).toBe(0);
  });

  test("an undetectable file names the available runtimes (exit 2)", () => {
    writeFileSync(join(work, "x.rb"), "puts 1");
    const r = run(["run", "x.rb"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("python, node, bun, deno, bash");
  });

  test("a missing file: File not found, exit 2", () => {
    const r = run(["run", "nope.py"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("File not found: nope.py");
  });
});

describe("run: exit codes", () => {
  test("the program's own exit code passes through", () => {
    expect(run(["run", "-e", "import sys; sys.exit(3)"]).code).toBe(3);
  });

  test("timeout → 124, and the run returns promptly", () => {
    const r = run(["run", "-e", "import time; time.sleep(30)", "--timeout", "1000"]);
    expect(r.code).toBe(124);
    expect(r.stderr).toContain("timed out");
  });

  test("killed by the memory limit → 137", () => {
    const r = run(["run", "-e", "a=bytearray(2**31)", "--memory", "256m"]);
    expect(r.code).toBe(137);
  });

  test("usage errors → 2: unknown flag, malformed --secret, --log-network without the filtered network", () => {
    expect(run(["run", "--bogus", "-e", "1"]).code).toBe(2);
    const secret = run(["run", "--secret", "NOEQUALS", "-e", "1"]);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain("KEY=VALUE");
    const net = run(["run", "--net", "none", "--log-network", "-e", "1"]);
    expect(net.code).toBe(2);
    expect(net.stderr).toContain("filtered network only");
  });

  test("repeatable flags keep every value", () => {
    const r = run(["run", "--env", "A=1", "--env", "B=2", "--secret", "S1=first-secret", "--secret=S2=second-secret", "-r", "bash", "-e", 'echo "$A $B $S1 $S2"']);
    expect(r.stdout).toBe("1 2 *** ***\n");
  });

  test("an install name that looks like an option is refused before any container work", () => {
    const r = run(["run", "--install", "--index-url=x", "-e", "1", "-r", "python"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Cannot install "--index-url=x"');
  });

  test("Docker unreachable → one line with the fix, exit 125, no stack trace", () => {
    const r = run(["run", "-e", "print(1)"], { env: { DOCKER_HOST: `unix://${join(work, "no-such.sock")}` } });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("Cannot connect to Docker");
    expect(r.stderr).toContain("start the Docker daemon");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe("");
  });
});

describe("run: output", () => {
  test("--no-stream --json reports truncation with at most 1 MiB of stdout", () => {
    const r = run(["run", "-e", "print('x'*5000000)", "--no-stream", "--json"]);
    const result = JSON.parse(r.stdout);
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(1_048_576);
    expect(r.stderr).toContain("output truncated");
  });

  test("streaming also stops at the cap", () => {
    const r = run(["run", "-e", "print('x'*5000000)"]);
    expect(Buffer.byteLength(r.stdout)).toBe(1_048_576);
  });

  const splitSecret =
    "import os,sys,time; t=os.environ['TOKEN']; sys.stdout.write(t[:5]); sys.stdout.flush(); time.sleep(0.2); print(t[5:])";
  for (const mode of [[], ["--no-stream"]]) {
    test(`a secret split across writes is masked ${mode.length ? "(collected)" : "(streamed)"}`, () => {
      const r = run(["run", "--secret", "TOKEN=s3cr3t-value", ...mode, "-e", splitSecret]);
      expect(r.stdout).toBe("***\n");
      expect(r.stdout + r.stderr).not.toContain("s3cr3t");
    });
  }

  test("--out writes stdout to a file, streamed and collected", () => {
    for (const mode of [[], ["--no-stream"]]) {
      const out = join(work, `out-${mode.length}.txt`);
      const r = run(["run", ...mode, "--out", out, "-e", "print('to file')"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      expect(readFileSync(out, "utf8")).toBe("to file\n");
    }
  });

  test("--json prints exactly one JSON document with the result fields", () => {
    const r = run(["run", "--json", "-e", "print('hi')"]);
    const result = JSON.parse(r.stdout);
    for (const key of ["stdout", "stderr", "exitCode", "durationMs", "truncated", "timedOut", "oomKilled", "executionId", "runtime", "timestamp", "containerId"]) {
      expect(result).toHaveProperty(key);
    }
    expect(result.stdout).toBe("hi\n");
  });

  test("terminal control sequences are shown, not executed, only when stdout is a terminal (pipe keeps bytes)", () => {
    const r = run(["run", "-e", "print('\\x1b]52;c;ZXZpbA==\\x07')"]);
    expect(r.stdout).toBe("\x1b]52;c;ZXZpbA==\x07\n");
  });

  /** `isol8 run <code> | <reader>` in a shell: the reader's output, and isol8's stderr and exit status. */
  const piped = (code: string, reader: string) => {
    const r = spawnSync("bash", ["-c", `"$0" run -e "$1" 2>"$2" | ${reader}; echo "status=\${PIPESTATUS[0]}" >>"$2"`, BINARY, code, join(work, "piped.err")], {
      cwd: work,
      env: { ...process.env, ...env, NO_COLOR: "1" },
      encoding: "utf8",
    });
    return { stdout: r.stdout, stderr: readFileSync(join(work, "piped.err"), "utf8") };
  };
  const lines = "for i in range(50000): print(i)"; // 288,890 bytes: more than a pipe holds

  test("a reader that leaves early (| head -1) ends the output quietly: no broken-pipe error, exit 0", () => {
    const r = piped(lines, "head -1");
    expect(r.stdout).toBe("0\n");
    expect(r.stderr).toBe("status=0\n");
  });

  test("twin: a slow reader that stays gets every byte before isol8 exits", () => {
    const r = piped(lines, "(sleep 1; wc -c)");
    expect(r.stdout.trim()).toBe("288890");
    expect(r.stderr).toBe("status=0\n");
  });

  test("on a terminal (a pty) the same control sequence is shown escaped", () => {
    const r = spawnSync("script", ["-qec", `"${BINARY}" run -e "print('\\x1b]52;c;ZXZpbA==\\x07')"`, "/dev/null"], {
      cwd: work,
      env: { ...process.env, ...env, NO_COLOR: "1" },
      encoding: "utf8",
    });
    expect(r.stdout).toContain("\\x1b]52;c;ZXZpbA==\\x07");
    expect(r.stdout).not.toContain("\x1b]52");
  });
});

describe("run: files", () => {
  test("--files copies a file in; --output-path brings a binary file back byte-identical", () => {
    writeFileSync(join(work, "in.txt"), "input data");
    const r = run([
      "run",
      "--files",
      "./in.txt",
      "--output-path",
      "/sandbox/out.bin",
      "--output-dir",
      join(work, "outdir"),
      "-e",
      "print(open('/sandbox/in.txt').read()); open('/sandbox/out.bin','wb').write(bytes(range(256)))",
    ]);
    expect(r.stdout).toBe("input data\n");
    expect(r.code).toBe(0);
    expect([...readFileSync(join(work, "outdir", "out.bin"))]).toEqual([...Array(256).keys()]);
  });

  test("--files with a directory skips .git and node_modules", () => {
    const dir = join(work, "proj");
    for (const [path, text] of [["proj/a.txt", "a"], ["proj/.git/HEAD", "x"], ["proj/node_modules/m.js", "x"], ["proj/sub/b.txt", "b"]]) {
      const full = join(work, path!);
      require("node:fs").mkdirSync(join(full, ".."), { recursive: true });
      writeFileSync(full, text!);
    }
    const r = run(["run", "--files", dir, "-r", "bash", "-e", "cd /sandbox/proj && find . -type f | sort"]);
    expect(r.stdout).toBe("./a.txt\n./sub/b.txt\n");
  });
});

describe("run: --persist keeps the container", () => {
  test("prints the container id and the container still runs", async () => {
    const r = run(["run", "--persist", "-e", "open('/sandbox/kept','w').write('1')"]);
    expect(r.code).toBe(0);
    const id = /container ([0-9a-f]{64}) kept/.exec(r.stderr)?.[1];
    expect(id).toBeDefined();
    const { createDockerClient } = await import("../../src/engine/docker");
    const docker = createDockerClient();
    try {
      const info = await docker.inspectContainer(id!);
      expect(info?.State.Running).toBe(true);
    } finally {
      await docker.remove(id!);
    }
  });
});

describe("run: standard input, arguments and exact bytes", () => {
  test("piped stdin reaches a program given as a file: printf '3 4\\n' | isol8 run add.py prints 7", () => {
    writeFileSync(join(work, "add.py"), "a, b = map(int, input().split())\nprint(a + b)\n");
    const r = run(["run", "add.py"], { input: "3 4\n" });
    expect(r.stdout).toBe("7\n");
    expect(r.code).toBe(0);
  });

  test("piped stdin reaches -e code; --stdin wins over the pipe; --stdin-file gives a file's bytes", () => {
    const echo = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())";
    expect(run(["run", "-e", echo], { input: "from the pipe" }).stdout).toBe("from the pipe");
    expect(run(["run", "--stdin", "from the flag", "-e", echo], { input: "from the pipe" }).stdout).toBe("from the flag");
    writeFileSync(join(work, "in.txt"), "from the file");
    expect(run(["run", "--stdin-file", "in.txt", "-e", echo]).stdout).toBe("from the file");
  });

  test("isol8 run argv.py -- a b passes the arguments; without -- they are refused, never dropped", () => {
    writeFileSync(join(work, "argv.py"), "import sys\nprint(sys.argv[1:])\n");
    const r = run(["run", "argv.py", "--", "a", "--b"]);
    expect(r.stdout).toBe("['a', '--b']\n");
    const dropped = run(["run", "argv.py", "a", "b"]);
    expect(dropped.code).toBe(2);
    expect(dropped.stderr).toContain("program arguments go after --");
  });

  test("the program file keeps its name in tracebacks; -e code is main.py", () => {
    writeFileSync(join(work, "boom.py"), "raise ValueError('x')\n");
    expect(run(["run", "boom.py"]).stderr).toContain('File "/sandbox/boom.py", line 1');
    expect(run(["run", "-e", "raise ValueError('x')"]).stderr).toContain('File "/sandbox/main.py", line 1');
  });

  test("bytes that are not UTF-8 pass through a pipe unchanged, streamed and collected", () => {
    const code = 'import sys; sys.stdout.buffer.write(b"\\xff\\xfeA"); sys.stderr.buffer.write(b"\\x80")';
    for (const extra of [[], ["--no-stream"]]) {
      const r = spawnSync(BINARY, ["run", ...extra, "-e", code], { cwd: work, env: { ...process.env, ...env, NO_COLOR: "1" } });
      expect([...r.stdout]).toEqual([0xff, 0xfe, 0x41]);
      expect([...r.stderr]).toEqual([0x80]);
    }
  });

  test("--json carries the exact bytes of output that is not valid UTF-8 as stdoutBase64", () => {
    const r = run(["run", "--json", "-e", 'import sys; sys.stdout.buffer.write(b"\\xff\\xfeA")']);
    const doc = JSON.parse(r.stdout);
    expect(doc.stdout).toBe("\uFFFD\uFFFDA");
    expect(doc.stdoutBase64).toBe(Buffer.from([0xff, 0xfe, 0x41]).toString("base64"));
    expect(JSON.parse(run(["run", "--json", "-e", "print('é')"]).stdout).stdoutBase64).toBeUndefined();
  });

  test("ps and kill are there for programs that shell out to them", () => {
    const r = run(["run", "-r", "bash", "-e", "sleep 30 & /usr/bin/kill $! && ps -o comm= -p $$"]);
    expect(r.stdout).toBe("bash\n");
    expect(r.code).toBe(0);
  });
});

describe("config", () => {
  test("an invalid size names defaults.memoryLimit and exits 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "isol8-cfg-"));
    writeFileSync(join(dir, "isol8.config.json"), JSON.stringify({ defaults: { memoryLimit: "12x" } }));
    const r = runBinary(["config"], { cwd: dir, env: { HOME: dir } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("defaults.memoryLimit");
    expect(r.stderr).toContain(join(dir, "isol8.config.json"));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    rmSync(dir, { recursive: true, force: true });
  });

  test("--json prints the configuration document itself: a valid partial file merged over the defaults", () => {
    const dir = mkdtempSync(join(tmpdir(), "isol8-cfg-"));
    writeFileSync(join(dir, "isol8.config.json"), JSON.stringify({ defaults: { timeoutMs: 5000 } }));
    const r = runBinary(["config", "--json"], { cwd: dir, env: { HOME: dir } });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.defaults.timeoutMs).toBe(5000);
    expect(doc.defaults.memoryLimit).toBe("512m");
    expect(doc.maxConcurrent).toBe(10);
    expect(r.stderr).toContain(join(dir, "isol8.config.json"));
    const source = runBinary(["config", "--source"], { cwd: dir, env: { HOME: dir } });
    expect(source.stdout).toBe(`${join(dir, "isol8.config.json")}\n`);
    rmSync(dir, { recursive: true, force: true });
  });

  test('"debug": true (a key of isol8 0.x configs) is accepted and means --debug', () => {
    const dir = mkdtempSync(join(tmpdir(), "isol8-cfg-"));
    writeFileSync(join(dir, "isol8.config.json"), JSON.stringify({ debug: true }));
    const shown = runBinary(["config", "--json"], { cwd: dir, env: { HOME: dir } });
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).debug).toBe(true);
    const r = runBinary(["run", "-e", "print(1)"], { cwd: dir, env: { ...env, HOME: dir } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("1\n");
    expect(r.stderr).toContain("container");
    const quiet = runBinary(["run", "--no-debug", "-e", "print(1)"], { cwd: dir, env: { ...env, HOME: dir } });
    expect(quiet.stderr).toBe("");
    rmSync(dir, { recursive: true, force: true });
  });

  test("config network default reaches run unless --net overrides it", () => {
    const dir = mkdtempSync(join(tmpdir(), "isol8-cfg-"));
    // The user's own file (HOME is dir): a file found in the working directory may not widen the network.
    mkdirSync(join(dir, ".isol8"));
    writeFileSync(join(dir, ".isol8", "config.json"), JSON.stringify({ defaults: { network: "host" } }));
    const probe = "import os; print(sorted(os.listdir('/sys/class/net')) != ['lo'])";
    const fromConfig = runBinary(["run", "-e", probe], { cwd: dir, env: { ...env, HOME: dir } });
    expect(fromConfig.stdout).toBe("True\n");
    const fromFlag = runBinary(["run", "--net", "none", "-e", probe], { cwd: dir, env: { ...env, HOME: dir } });
    expect(fromFlag.stdout).toBe("False\n");
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("setup", () => {
  test("a second setup reports every image up to date", () => {
    const r = run(["setup"], { timeoutMs: 900_000 });
    expect(r.code).toBe(0);
    const again = run(["setup"]);
    expect(again.code).toBe(0);
    for (const image of [TEST_IMAGES.base, ...["python", "node", "bun", "deno", "bash"].map((r) => TEST_IMAGES.runtime(r as "python"))]) {
      expect(again.stderr).toContain(`${image}: up to date`);
    }
    expect(again.stdout).toMatch(/^setup done in [0-9.]+s: 0 built, 6 up to date\n$/);
  }, 900_000);

  test("--bash is refused with exit 2 before anything is built; --deno is a known flag", () => {
    const r = run(["setup", "--bash", "jq"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Cannot bake packages for bash (--bash)");
    expect(run(["setup", "--help"]).stdout).toContain("--deno");
  });
});

describe("cleanup", () => {
  // Its own scope: a cleanup must never touch containers other tests are using.
  const scope = `${TEST_SCOPE}-cleanup-${process.pid}`;
  const env = { ISOL8_SCOPE: scope };
  const idOf = (stderr: string) => /container ([0-9a-f]{64}) kept/.exec(stderr)?.[1];

  test("removes the container a finished --persist run left, and exactly it", async () => {
    const kept = run(["run", "--persist", "-e", "1"], { env });
    expect(kept.code).toBe(0);
    const id = idOf(kept.stderr)!;
    expect(id).toBeDefined();
    const { createDockerClient } = await import("../../src/engine/docker");
    const docker = createDockerClient();
    expect(await docker.inspectContainer(id)).not.toBeNull();
    const r = run(["cleanup", "--force"], { env });
    expect(r.code).toBe(0);
    // Both streams in the failure message: stderr says which containers were kept and why.
    expect({ stdout: r.stdout, stderr: r.stderr }).toMatchObject({ stdout: expect.stringContaining(`container ${id.slice(0, 12)}`) });
    expect(r.stdout).toContain("removed 1 container(s)");
    expect(await docker.inspectContainer(id)).toBeNull();
  });

  test("keeps the containers of a running isol8 process unless --all", async () => {
    const { DockerIsol8 } = await import("../../src/engine/engine");
    const live = new DockerIsol8({ scope, config: { poolSize: 1 } });
    try {
      await live.start({ prewarm: ["bash"] });
      const r = run(["cleanup", "--force"], { env });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/keeping [1-9]\d* container\(s\) of isol8 processes that are still running/);
      expect((await live.execute({ runtime: "bash", code: "echo still" })).stdout).toBe("still\n");
      const all = run(["cleanup", "--force", "--all"], { env });
      expect(all.stdout).toMatch(/removed [1-9]\d* container\(s\)/);
    } finally {
      await live.stop();
    }
  }, 60_000);
});

describe("run: Ctrl-C", () => {
  test("SIGINT stops the program, removes the container and exits 130", async () => {
    const scope = `isol8-test-sigint-${process.pid}`;
    const child = Bun.spawn([BINARY, "run", "-e", "import time; print('started', flush=True); time.sleep(60)"], {
      env: { ...process.env, ISOL8_SCOPE: scope, NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = child.stdout.getReader();
    let seen = "";
    while (!seen.includes("started")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    child.kill("SIGINT");
    expect(await child.exited).toBe(130);
    const { createDockerClient } = await import("../../src/engine/docker");
    const { findContainers } = await import("../../src/engine/cleanup");
    expect(await findContainers(createDockerClient(), { scope })).toEqual([]);
  }, 60_000);
});

describe("build: Debian packages baked into an image", () => {
  test("isol8 build --base python --apt python3-numpy prints the image; a run in it imports numpy and prints its version", () => {
    const built = run(["build", "--base", "python", "--apt", "python3-numpy"], { timeoutMs: 900_000 });
    expect(built.code).toBe(0);
    const image = built.stdout.trim();
    expect(image).not.toBe("");
    const r = run(["run", "--image", image, "-e", "import numpy; print(numpy.__version__)"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    // Still the plain image without it: numpy is not there.
    const plain = run(["run", "-e", "import numpy"]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain("No module named 'numpy'");
  }, 900_000);
});
