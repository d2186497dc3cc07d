import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { prepared, resultOf } from "../../../test/audit-fixtures";
import { ImageError } from "../../errors";
import { type AuditableResult, type AuditRecordInput, buildAuditRecord, outcomeOf, serializeRecord } from "./audit-record";

const startedAt = new Date("2026-03-04T05:06:06.000Z");

function input(overrides: Partial<AuditRecordInput> = {}): AuditRecordInput {
  const p = overrides.prepared ?? prepared();
  return {
    prepared: p,
    context: {},
    imageId: "sha256:abc",
    startedAt,
    elapsedMs: 1234.4,
    result: resultOf(p),
    includeCode: false,
    includeOutput: false,
    ...overrides,
  };
}

/** The one record a serialized line holds (fails unless it is exactly one JSON line). */
function parseLine(line: string): Record<string, unknown> {
  expect(line.endsWith("\n")).toBe(true);
  expect(line.slice(0, -1)).not.toMatch(/[\n\r\u2028\u2029\u0085]/);
  return JSON.parse(line);
}

describe("buildAuditRecord", () => {
  test("a finished execution: identity, image, code hash and sizes, limits, network, receipt", () => {
    const p = prepared({ code: "print('hé')", memoryLimit: "256m", cpuLimit: 0.5, pidsLimit: 32, timeoutMs: 5000, maxOutputSize: 4096 });
    const record = buildAuditRecord(input({ prepared: p, result: resultOf(p) }));
    expect(record).toEqual({
      executionId: p.executionId,
      timestamp: "2026-03-04T05:06:07.000Z",
      durationMs: 42,
      phases: { queueMs: 1, acquireMs: 2, installMs: 0, runMs: 38, collectMs: 1 },
      runtime: "python",
      image: { ref: "isol8:python", id: "sha256:abc" },
      codeHash: createHash("sha256").update("print('hé')").digest("hex"),
      codeBytes: 12,
      exitCode: 0,
      outcome: "exited",
      limits: {
        timeoutMs: 5000,
        memoryBytes: 256 * 1024 * 1024,
        cpu: 0.5,
        pidsLimit: 32,
        sandboxBytes: 512 * 1024 * 1024,
        tmpBytes: 256 * 1024 * 1024,
        maxOutputBytes: 4096,
      },
      network: "none",
      seccomp: "unconfined",
      containerId: "c0ffee",
      resourceUsage: resultOf(p).resourceUsage,
    });
  });

  test.each([
    ["exited", {}],
    ["timeout", { timedOut: true, truncated: true }],
    ["oom", { oomKilled: true }],
    ["truncated", { truncated: true }],
    ["exited", { exitCode: 3 }],
  ] as const)("outcome %s for %j", (outcome, fields) => {
    expect(outcomeOf(resultOf(prepared(), fields))).toBe(outcome);
  });

  test("isol8's own failure: outcome error with the message, no exit code, container or receipt", () => {
    const record = buildAuditRecord(
      input({ result: undefined, error: new ImageError('Cannot start runtime "python": image "x" not found', "run isol8 setup"), imageId: null }),
    );
    expect(record.outcome).toBe("error");
    expect(record.error).toBe('Cannot start runtime "python": image "x" not found');
    expect(record.exitCode).toBeNull();
    expect(record.containerId).toBeNull();
    expect(record.resourceUsage).toBeNull();
    expect(record.image.id).toBeNull();
    expect(record.timestamp).toBe(startedAt.toISOString());
    expect(record.durationMs).toBe(1234);
  });

  test("session id, principal, MCP client and metadata are recorded when given", () => {
    const record = buildAuditRecord(
      input({ prepared: prepared({ metadata: { userId: "u1" } }), context: { sessionId: "s1", principal: "key:ops", client: "claude-code" } }),
    );
    expect(record).toMatchObject({ sessionId: "s1", principal: "key:ops", client: "claude-code", metadata: { userId: "u1" } });
    const bare = buildAuditRecord(input());
    expect(Object.keys(bare)).not.toContain("sessionId");
    expect(Object.keys(bare)).not.toContain("principal");
    expect(Object.keys(bare)).not.toContain("client");
    expect(Object.keys(bare)).not.toContain("metadata");
  });

  test("without the include flags: no code and no output, only the hash and sizes", () => {
    const record = buildAuditRecord(input());
    expect(record.code).toBeUndefined();
    expect(record.stdout).toBeUndefined();
    expect(record.stderr).toBeUndefined();
    expect(record.codeBytes).toBe(8);
    expect(record.resourceUsage?.stdoutBytes).toBe(2);
  });

  test("includeCode adds the code; includeOutput adds the (masked) output of the result", () => {
    const p = prepared({ code: "print(secret)" });
    const record = buildAuditRecord(input({ prepared: p, result: resultOf(p, { stdout: "***\n", stderr: "warn\n" }), includeCode: true, includeOutput: true }));
    expect(record.code).toBe("print(secret)");
    expect(record.stdout).toBe("***\n");
    expect(record.stderr).toBe("warn\n");
  });

  test("a streamed run's output comes from what was passed on (its result holds none)", () => {
    const p = prepared();
    const record = buildAuditRecord(
      input({ prepared: p, result: resultOf(p, { stdout: "", stderr: "" }), output: { stdout: "a\nb\n", stderr: "e" }, includeOutput: true }),
    );
    expect(record.stdout).toBe("a\nb\n");
    expect(record.stderr).toBe("e");
  });

  test("networkLogs only in filtered mode with logNetwork on", () => {
    // Typed loosely: the entries are the network log's; the audit log only passes them on.
    const logs = [{ timestamp: startedAt.toISOString(), method: "GET", host: "sink.test", port: 80, path: "/", action: "ALLOW" }] as unknown as AuditableResult["networkLogs"];
    const policy = (logNetwork: boolean) => ({ allow: ["^sink\\.test$"], deny: [], logNetwork });
    const filtered = { ...prepared(), network: "filtered" as const };
    const withLogs = (p: AuditRecordInput["prepared"]) => buildAuditRecord(input({ prepared: p, result: { ...resultOf(p), networkLogs: logs } }));
    expect(withLogs({ ...filtered, policy: policy(true) }).networkLogs).toEqual(logs);
    expect(withLogs({ ...filtered, policy: policy(false) }).networkLogs).toBeUndefined();
    expect(withLogs(prepared()).networkLogs).toBeUndefined();
    expect(buildAuditRecord(input({ prepared: { ...filtered, policy: policy(true) } })).networkLogs).toBeUndefined();
  });

  test("filtered mode records the host policy; installs record the packages", () => {
    const p = { ...prepared(), network: "filtered" as const, policy: { allow: ["^a\\.test$"], deny: ["b"], logNetwork: false }, install: { argv: ["pip", "install", "six"], packages: ["six"] } };
    expect(buildAuditRecord(input({ prepared: p, result: resultOf(p) }))).toMatchObject({
      network: "filtered",
      networkPolicy: { allow: ["^a\\.test$"], deny: ["b"] },
      installPackages: ["six"],
    });
    const none = buildAuditRecord(input());
    expect(Object.keys(none)).not.toContain("networkPolicy");
    expect(Object.keys(none)).not.toContain("installPackages");
  });
});

describe("serializeRecord", () => {
  test('metadata holding "\\n{\\"forged\\":true}" yields exactly one well-formed record', () => {
    const forged = '\n{"forged":true}';
    const line = serializeRecord(buildAuditRecord(input({ prepared: prepared({ metadata: { userId: forged } }) })));
    expect(line.split("\n")).toHaveLength(2);
    const record = parseLine(line);
    expect(record.forged).toBeUndefined();
    expect((record.metadata as { userId: string }).userId).toBe(forged);
  });

  test("control characters, line separators, C1 controls and lone surrogates in any field are escaped", () => {
    const nasty = "a\r\nb\u2028c\u2029d\u0085e\u009bf\u007fg\u001b[31mh\ud800i\u0000";
    const p = prepared({ code: nasty, metadata: { [nasty]: nasty } });
    const line = serializeRecord(
      buildAuditRecord(
        input({ prepared: p, result: resultOf(p, { stdout: nasty, stderr: nasty }), context: { principal: nasty, sessionId: nasty }, includeCode: true, includeOutput: true }),
      ),
    );
    expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    const record = parseLine(line);
    expect(record.code).toBe(nasty);
    expect(record.stdout).toBe(nasty);
    expect(record.principal).toBe(nasty);
    expect((record.metadata as Record<string, string>)[nasty]).toBe(nasty);
  });

  test("metadata that cannot be serialized (BigInt, cycles) is replaced by a note; the record is still written", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const metadata of [{ n: 10n }, cyclic, { bad: { toJSON: () => { throw new Error("boom\n{}"); } } }]) {
      const record = parseLine(serializeRecord(buildAuditRecord(input({ prepared: { ...prepared(), metadata } }))));
      expect((record.metadata as { unserializable: string }).unserializable).toStartWith("metadata could not be serialized");
      expect(record.outcome).toBe("exited");
    }
  });
});
