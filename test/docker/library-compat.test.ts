// isol8 0.x call shapes against real Docker: top-level engine defaults take effect (never
// ignored), unknown ones are refused, and the acceptance cases of the library compatibility
// work. Network destinations are only the sink this file starts on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DockerIsol8, DockerIsol8Options } from "../../src/engine/engine";
import { ConflictError, RequestError } from "../../src/errors";
import { loadConfig } from "../../src/config/load";
import { outputBytes } from "../../src/protocol/output-bytes";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";
import { type HttpSink, PY_HTTP, shown, startHttpSink } from "./network-sinks";

let sink: HttpSink;
const engines: DockerIsol8[] = [];
const engine = (options: DockerIsol8Options) => {
  const made = testEngine(options);
  engines.push(made);
  return made;
};

beforeAll(async () => {
  sink = await startHttpSink("127.0.0.1");
});

afterAll(async () => {
  await Promise.all(engines.map((e) => e.stop()));
  for (const e of engines) expect(await ownedContainers(e)).toEqual([]);
  await sink?.close();
});

describe("top-level engine defaults (isol8 0.x)", () => {
  test('{ network: "filtered", poolSize: 1 } runs filtered: a whitelisted host answers, any other is refused', async () => {
    const filtered = engine({
      network: "filtered",
      poolSize: 1,
      networkFilter: { whitelist: ["sink\\.test"], blacklist: [] },
      config: { network: { hosts: { "sink.test": "127.0.0.1", "other.test": "127.0.0.1" }, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [sink.port] } },
    });
    expect(filtered.config.defaults.network).toBe("filtered");
    expect(filtered.poolStats()).not.toBeNull();
    const r = await filtered.execute({
      runtime: "python",
      timeoutMs: 60_000,
      code: `${PY_HTTP}
show("proxy", "HTTP_PROXY" in os.environ)
show("allowed", get("http://sink.test:${sink.port}/yes"))
show("other", get("http://other.test:${sink.port}/no"))`,
    });
    const seen = shown(r.stdout);
    expect(seen.proxy).toBe(true);
    expect((seen.allowed as [number, string])[0]).toBe(200);
    expect((seen.other as [number, string])[0]).toBe(403);
    expect(sink.requests.map((q) => q.url)).toEqual(["/yes"]);
  }, 120_000);

  test('{ memoryLimit: "32m" }: a 100 MB allocation fails; the default (512m) lets it through', async () => {
    const alloc = "b = bytearray(100 * 1024 * 1024); print(len(b))";
    const small = await engine({ memoryLimit: "32m", pool: false }).execute({ runtime: "python", code: alloc });
    expect(small.exitCode).not.toBe(0);
    expect(small.resourceUsage.killReason).toBe("memory-limit");
    const usual = await engine({ pool: false }).execute({ runtime: "python", code: alloc });
    expect(usual.stdout).toBe(`${100 * 1024 * 1024}\n`);
  }, 120_000);

  test("{ secrets } masks them in every execution, and a request's own secrets add to them", async () => {
    const masked = engine({ pool: false, secrets: { API_KEY: "super-secret-key-123" } });
    const r = await masked.execute({
      runtime: "python",
      secrets: { OTHER: "another-secret-456" },
      code: "import os, sys; print(os.environ['API_KEY']); print(os.environ['OTHER'], file=sys.stderr)",
    });
    expect(r.stdout).toBe("***\n");
    expect(r.stderr).toBe("***\n");
  }, 60_000);

  test("{ timeoutMs } is the default budget; a request's own wins", async () => {
    const short = engine({ pool: false, timeoutMs: 1500 });
    const r = await short.execute({ runtime: "python", code: "import time; time.sleep(20)" });
    expect(r.timedOut).toBe(true);
    const longer = await short.execute({ runtime: "python", timeoutMs: 20_000, code: "import time; time.sleep(2); print('done')" });
    expect(longer.stdout).toBe("done\n");
  }, 60_000);

  test("{ bogus: 1 } throws a RequestError naming bogus before any container", () => {
    expect(() => testEngine({ bogus: 1 } as never)).toThrow('unknown option "bogus"');
    try {
      testEngine({ bogus: 1 } as never);
    } catch (error) {
      expect(error).toBeInstanceOf(RequestError);
      expect((error as RequestError).field).toBe("bogus");
    }
  });

  test("{ maxOutputSize: 1024 } caps the output", async () => {
    const r = await engine({ pool: false, maxOutputSize: 1024 }).execute({ runtime: "python", code: "print('x' * 10000)" });
    expect(r.truncated).toBe(true);
    expect(r.stdout).toBe("x".repeat(1024));
  }, 60_000);

  test("start({ prewarm: { runtimes } }) warms the pool; loadConfig() passes as config", async () => {
    const warm = engine({ config: loadConfig({ cwd: "/nonexistent", home: "/nonexistent" }) });
    await warm.start({ prewarm: { runtimes: ["python"] } });
    expect(warm.poolStats()?.ready).toBeGreaterThanOrEqual(1);
  }, 120_000);
});

describe("exact bytes through the library", () => {
  test("output that is not UTF-8 comes back exact, collected and streamed; valid UTF-8 has no extra field", async () => {
    const bytes = engine({ pool: false });
    const code = 'import sys; sys.stdout.buffer.write(b"\\xff\\xfeA"); sys.stdout.flush()';
    const r = await bytes.execute({ runtime: "python", code });
    expect([...outputBytes(r, "stdout")]).toEqual([0xff, 0xfe, 0x41]);
    expect(r.stdout).toBe("\uFFFD\uFFFDA");
    const streamed: Buffer[] = [];
    for await (const event of bytes.executeStream({ runtime: "python", code })) {
      if (event.type === "stdout") streamed.push(event.base64 ? Buffer.from(event.base64, "base64") : Buffer.from(event.data));
    }
    expect([...Buffer.concat(streamed)]).toEqual([0xff, 0xfe, 0x41]);
    const text = await bytes.execute({ runtime: "python", code: "print('é')" });
    expect(text.stdoutBase64).toBeUndefined();
  }, 60_000);

  test("stdin bytes and arguments reach the program exactly", async () => {
    const r = await engine({ pool: false }).execute({
      runtime: "python",
      stdin: new Uint8Array([0x00, 0xff, 0x0a]),
      args: ["a b", "--c", ""],
      code: "import sys; print(list(sys.stdin.buffer.read()), sys.argv)",
    });
    expect(r.stdout).toBe("[0, 255, 10] ['/sandbox/main.py', 'a b', '--c', '']\n");
  }, 60_000);

  test("programFile names the file; a files entry at its path is refused", async () => {
    const named = engine({ pool: false });
    const r = await named.execute({ runtime: "node", programFile: "solve.cjs", code: "console.log(__filename, typeof require)" });
    expect(r.stdout).toBe("/sandbox/solve.cjs function\n");
    expect(named.execute({ runtime: "python", code: "1", files: { "/sandbox/main.py": "x" } })).rejects.toThrow("it is the program file");
  }, 60_000);

  test("a session whose program left a directory at the program file's path: a ConflictError naming it; another programFile still runs", async () => {
    const session = engine({ mode: "persistent" });
    await session.execute({ runtime: "python", code: "import os; os.remove('/sandbox/main.py'); os.mkdir('/sandbox/main.py')" });
    const refused = await session.execute({ runtime: "python", code: "print(1)" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as Error).message).toBe("Cannot write the program file: /sandbox/main.py: is a directory (not-regular-file)");
    const other = await session.execute({ runtime: "python", programFile: "other.py", code: "import os; print(os.path.isdir('/sandbox/main.py'))" });
    expect(other.stdout).toBe("True\n");
  }, 60_000);
});
