// The audit log and the resource receipt against real Docker: one record per execution
// whatever the outcome, include flags, masking, refusal when auditing is impossible, and
// receipts that reflect what the program did.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditRecord } from "../../src/engine/audit/audit-record";
import { createDockerClient } from "../../src/engine/docker";
import type { DockerIsol8 } from "../../src/engine/engine";
import { Isol8Error } from "../../src/errors";
import { TEST_IMAGES, testEngine } from "../helpers";
import { countingDocker, rejection, streamRun } from "./execution-helpers";
import { ownedContainers } from "./owned-containers";

const MiB = 1024 * 1024;
const LONG_SECRET = "s3cr3t-Audit-Value-7f2c91";
const PRINT_T = "import os; print(os.environ['T'])";

let work: string;
const engines: DockerIsol8[] = [];
/** An engine auditing into `<work>/<name>`; stopped (and checked for leftovers) in afterAll. */
function auditedEngine(name: string, audit: Record<string, unknown> = {}, options: Parameters<typeof testEngine>[0] = {}) {
  const engine = testEngine({ ...options, config: { audit: { enabled: true, logDir: join(work, name), ...audit } } });
  engines.push(engine);
  return engine;
}

/** Every line of every audit file under `<work>/<name>`, raw and parsed. */
function auditLines(name: string): { raw: string; record: AuditRecord }[] {
  const dir = join(work, name);
  return readdirSync(dir)
    .flatMap((file) => readFileSync(join(dir, file), "utf8").split("\n"))
    .filter(Boolean)
    .map((raw) => ({ raw, record: JSON.parse(raw) as AuditRecord }));
}
const recordOf = (name: string, executionId: string) => {
  const found = auditLines(name).filter((l) => l.record.executionId === executionId);
  expect(found).toHaveLength(1);
  return found[0]!;
};

let plain: DockerIsol8;
let full: DockerIsol8;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "isol8-audit-docker-"));
  plain = auditedEngine("plain");
  full = auditedEngine("full", { includeCode: true, includeOutput: true });
  await Promise.all([plain.start(), full.start()]);
});
afterAll(async () => {
  for (const engine of engines) {
    await engine.stop();
    expect(await ownedContainers(engine)).toEqual([]);
  }
  rmSync(work, { recursive: true, force: true });
});

describe("audit records", () => {
  test("success: outcome exited, image id, code hash, limits, receipt; no code or output", async () => {
    const result = await plain.execute({ code: "print('hello')", memoryLimit: "256m", metadata: { userId: "u-1" } });
    const { record } = recordOf("plain", result.executionId);
    const image = await createDockerClient().inspectImage(TEST_IMAGES.runtime("python"));
    expect(record).toMatchObject({
      timestamp: result.timestamp,
      durationMs: result.durationMs,
      runtime: "python",
      image: { ref: TEST_IMAGES.runtime("python"), id: image!.id },
      codeHash: new Bun.CryptoHasher("sha256").update("print('hello')").digest("hex"),
      codeBytes: 14,
      exitCode: 0,
      outcome: "exited",
      network: "none",
      containerId: result.containerId,
      metadata: { userId: "u-1" },
      resourceUsage: result.resourceUsage,
    });
    expect(record.limits).toMatchObject({ memoryBytes: 256 * MiB, timeoutMs: 30_000, pidsLimit: 64, maxOutputBytes: MiB });
    expect(record.code).toBeUndefined();
    expect(record.stdout).toBeUndefined();
    expect(record.stderr).toBeUndefined();
  });

  test("failure: exit 3 is recorded as exited with exitCode 3", async () => {
    const result = await plain.execute({ code: "import sys; print('bye'); sys.exit(3)" });
    expect(result.exitCode).toBe(3);
    expect(recordOf("plain", result.executionId).record).toMatchObject({ exitCode: 3, outcome: "exited" });
  });

  test("timeout: outcome timeout, killReason timeout", async () => {
    const result = await plain.execute({ code: "import time; time.sleep(60)", timeoutMs: 1000 });
    expect(result.timedOut).toBe(true);
    const { record } = recordOf("plain", result.executionId);
    expect(record).toMatchObject({ outcome: "timeout", exitCode: 137, limits: { timeoutMs: 1000 } });
    expect(record.resourceUsage?.killReason).toBe("timeout");
  });

  test("output cap and OOM kill are recorded as truncated and oom", async () => {
    const capped = await plain.execute({ code: "print('x' * 100000)", maxOutputSize: 1000 });
    const oom = await plain.execute({ code: "b = bytearray(2**30)", memoryLimit: "128m" });
    expect(recordOf("plain", capped.executionId).record.outcome).toBe("truncated");
    expect(recordOf("plain", oom.executionId).record.outcome).toBe("oom");
  }, 60_000);

  test("streamed run: one record, with the streamed output when includeOutput is on", async () => {
    const run = await streamRun(full, { code: "import sys\nprint('one', flush=True)\nprint('two', file=sys.stderr)\nprint('three')" });
    const { record } = recordOf("full", run.exit.executionId);
    expect(record).toMatchObject({ outcome: "exited", stdout: "one\nthree\n", stderr: "two\n", code: expect.stringContaining("print('one'") });
    const quiet = await streamRun(plain, { code: "print('streamed')" });
    const plainRecord = recordOf("plain", quiet.exit.executionId).record;
    expect(plainRecord.outcome).toBe("exited");
    expect(plainRecord.stdout).toBeUndefined();
  });

  test("includeCode and includeOutput add the code and the output", async () => {
    const result = await full.execute({ code: "import sys; print('out'); print('err', file=sys.stderr)" });
    expect(recordOf("full", result.executionId).record).toMatchObject({
      code: "import sys; print('out'); print('err', file=sys.stderr)",
      stdout: "out\n",
      stderr: "err\n",
    });
  });

  test("secrets are recorded masked, never their values (collected and streamed)", async () => {
    const short = await full.execute({ code: PRINT_T, secrets: { T: "v4lu" } });
    expect(short.stdout).toBe("***\n");
    expect(recordOf("full", short.executionId).record).toMatchObject({ stdout: "***\n", stderr: "" });

    const collected = await full.execute({ code: `${PRINT_T}\nimport sys; print(os.environ['T'][:9], os.environ['T'], file=sys.stderr)`, secrets: { T: LONG_SECRET } });
    const streamed = await streamRun(full, { code: PRINT_T, secrets: { T: LONG_SECRET } });
    for (const id of [collected.executionId, streamed.exit.executionId]) {
      const { raw, record } = recordOf("full", id);
      expect(record.stdout).toBe("***\n");
      expect(raw).not.toContain(LONG_SECRET);
    }
  });

  test('metadata holding "\\n{\\"forged\\":true}" yields exactly one well-formed record', async () => {
    const before = auditLines("plain").length;
    const result = await plain.execute({ code: "print(1)", metadata: { userId: '\n{"forged":true}', note: "a\u2028b\r\n" } });
    const after = auditLines("plain");
    expect(after).toHaveLength(before + 1);
    expect(after.some((l) => (l.record as unknown as { forged?: boolean }).forged)).toBe(false);
    expect(recordOf("plain", result.executionId).record.metadata).toEqual({ userId: '\n{"forged":true}', note: "a\u2028b\r\n" });
  });

  test("session id and principal from the execute options are recorded", async () => {
    const result = await plain.execute({ code: "print(1)" }, { audit: { sessionId: "s-42", principal: "key:ci" } });
    expect(recordOf("plain", result.executionId).record).toMatchObject({ sessionId: "s-42", principal: "key:ci" });
  });

  test("isol8's own failure (missing image) throws as before and is recorded as outcome error", async () => {
    const error = await rejection(plain.execute({ code: "print(1)", image: "isol8-test-missing:none" }));
    expect(error).toBeInstanceOf(Isol8Error);
    const records = auditLines("plain").filter((l) => l.record.image.ref === "isol8-test-missing:none");
    expect(records).toHaveLength(1);
    expect(records[0]!.record).toMatchObject({ outcome: "error", error: error.message, exitCode: null, containerId: null, image: { id: null } });
  });

  test("an unwritable log dir: one clear error per execution, and the result still arrives", async () => {
    writeFileSync(join(work, "blocker"), "");
    const errors: string[] = [];
    const engine = testEngine({
      config: { audit: { enabled: true, logDir: join(work, "blocker", "logs") } },
      audit: { onError: (e) => errors.push(e.message) },
    });
    engines.push(engine);
    const result = await engine.execute({ code: "print('kept')" });
    expect(result.stdout).toBe("kept\n");
    expect(errors).toEqual([`Cannot create the audit log directory "${join(work, "blocker", "logs")}": a file is in the way of the directory (ENOTDIR)`]);
  });

  test("audit.required refuses the execution before any container work when the log cannot be written", async () => {
    writeFileSync(join(work, "blocker2"), "");
    const counting = countingDocker();
    const engine = testEngine({ pool: false, docker: counting.docker, config: { audit: { enabled: true, required: true, logDir: join(work, "blocker2", "logs") } } });
    engines.push(engine);
    const error = await rejection(engine.execute({ code: "print(1)" }));
    expect(error).toBeInstanceOf(Isol8Error);
    expect(error.message).toStartWith("Cannot run the execution: no audit record can be written (audit.required is true)");
    expect(counting.created()).toBe(0);
    const events = [];
    for await (const event of engine.executeStream({ code: "print(1)" })) events.push(event);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "error", data: expect.stringContaining("audit.required is true") });
    expect(counting.created()).toBe(0);
  });

  test("still works: audit.required with a writable log dir runs and records", async () => {
    const engine = auditedEngine("required", { required: true }, { pool: false });
    const result = await engine.execute({ code: "print(1)" });
    expect(result.stdout).toBe("1\n");
    expect(recordOf("required", result.executionId).record.outcome).toBe("exited");
  });
});

describe("resource receipts", () => {
  let engine: DockerIsol8;
  beforeAll(() => {
    engine = testEngine();
    engines.push(engine);
  });

  test("a 200 MiB allocation reports a peak of at least 200 MiB; hello world less than 50 MiB", async () => {
    const hungry = await engine.execute({ code: "x = bytearray(200 * 2**20)" });
    const hello = await engine.execute({ code: "print('hello')" });
    expect(hungry.exitCode).toBe(0);
    expect(hungry.resourceUsage.peakMemoryBytes).toBeGreaterThanOrEqual(200 * MiB);
    expect(hello.resourceUsage.peakMemoryBytes).toBeGreaterThan(0);
    expect(hello.resourceUsage.peakMemoryBytes).toBeLessThan(50 * MiB);
  }, 60_000);

  test("the peak is this execution's, not the pooled container's: hello after a hungry run is small again", async () => {
    const solo = testEngine({ mode: "persistent" });
    engines.push(solo);
    const hungry = await solo.execute({ code: "x = bytearray(200 * 2**20)" });
    const hello = await solo.execute({ code: "print('hello')" });
    expect(hello.containerId).toBe(hungry.containerId);
    expect(hungry.resourceUsage.peakMemoryBytes).toBeGreaterThanOrEqual(200 * MiB);
    expect(hello.resourceUsage.peakMemoryBytes).toBeLessThan(50 * MiB);
  }, 60_000);

  test("a CPU loop reports more CPU time than hello world", async () => {
    const loop = await engine.execute({ code: "n = 0\nfor i in range(20_000_000): n += i\nprint(n)" });
    const hello = await engine.execute({ code: "print('hello')" });
    expect(loop.exitCode).toBe(0);
    expect(loop.resourceUsage.cpuTimeMs).toBeGreaterThan(hello.resourceUsage.cpuTimeMs);
  }, 60_000);

  test("stdout and stderr bytes are the program's, counted before the cap", async () => {
    const result = await engine.execute({ code: "import sys; sys.stdout.write('a' * 10); sys.stderr.write('bb')" });
    expect(result.resourceUsage).toMatchObject({ stdoutBytes: 10, stderrBytes: 2, networkBytesIn: null, networkBytesOut: null, killReason: null });
  });

  test("a timed-out run says timeout", async () => {
    const result = await engine.execute({ code: "while True: pass", timeoutMs: 1000 });
    expect(result.timedOut).toBe(true);
    expect(result.resourceUsage.killReason).toBe("timeout");
    expect(result.resourceUsage.cpuTimeMs).toBeGreaterThan(0);
  }, 60_000);
});
