// The scripted MCP client session both transports pass (stdio against `dist/isol8 mcp`, HTTP
// against `isol8 serve`): the SDK's own client, real containers, no mocks.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";

type Content = { type: string; text?: string; data?: string; mimeType?: string }[];
export const textOf = (result: { [key: string]: unknown }) => ((result.content ?? []) as Content).filter((c) => c.type === "text").map((c) => c.text).join("\n");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Does the container still exist? */
export const containerExists = (id: string) => spawnSync("docker", ["inspect", "--format", "{{.Id}}", id], { encoding: "utf8" }).status === 0;

/** The command lines of the container's processes (docker top). */
export const containerProcesses = (id: string) => spawnSync("docker", ["top", id, "-eo", "args"], { encoding: "utf8" }).stdout;

/** The process ids in the container (docker top). */
export const containerPids = (id: string) =>
  spawnSync("docker", ["top", id, "-eo", "pid"], { encoding: "utf8" })
    .stdout.split("\n")
    .slice(1)
    .map((line) => line.trim())
    .filter(Boolean);

/** Waits (bounded) until `check` holds; returns whether it did. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await sleep(100);
  }
}

export interface Scenario {
  client(): Client;
  /** Containers this session's tool calls ran in (from run_code's structured results). */
  containers: Set<string>;
}

const runCode = async (s: Scenario, args: Record<string, unknown>) => {
  const result = await s.client().callTool({ name: "run_code", arguments: args });
  const id = (result.structuredContent as { containerId?: string } | undefined)?.containerId;
  if (id) s.containers.add(id);
  return result;
};

/** The tests every transport passes, in order, on one MCP session. */
export function scenarioTests(s: Scenario): void {
  test("tools are listed with valid input and output schemas", async () => {
    const { tools } = await s.client().listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["list_files", "list_runtimes", "read_file", "reset_context", "run_cell", "run_code", "write_file"]);
    const ajv = new AjvJsonSchemaValidator();
    for (const tool of tools) {
      expect(() => ajv.getValidator(tool.inputSchema)).not.toThrow();
      if (tool.outputSchema) expect(() => ajv.getValidator(tool.outputSchema!)).not.toThrow();
    }
  });

  test("run_code runs python and node (the client validates the structured results against the output schema)", async () => {
    const python = await runCode(s, { code: "import sys\nprint('py', sys.version_info.major)\nprint('warn', file=sys.stderr)" });
    expect(python.isError).toBe(false);
    expect(textOf(python)).toContain("exit code 0");
    expect(textOf(python)).toContain("py 3");
    expect(textOf(python)).toContain("--- stderr ---\nwarn");
    const node = await runCode(s, { runtime: "node", code: "console.log('node', typeof process.version)" });
    expect(textOf(node)).toContain("node string");
    const failing = await runCode(s, { code: "raise SystemExit(3)" });
    expect(failing.isError).toBe(true);
    expect((failing.structuredContent as { exitCode: number }).exitCode).toBe(3);
  });

  test("run_code passes stdin, args and files (text and base64) to the program", async () => {
    const result = await runCode(s, {
      runtime: "node",
      code: "import fs from 'node:fs';\nconsole.log(fs.readFileSync(0, 'utf8').trim(), process.argv.slice(2).join('+'), fs.readFileSync('in/a.txt', 'utf8'), [...fs.readFileSync('b.bin')].join(','))",
      stdin: "from stdin\n",
      args: ["one", "two words"],
      files: { "in/a.txt": "text file", "b.bin": { base64: Buffer.from([0, 255, 7]).toString("base64") } },
    });
    expect(result.isError).toBe(false);
    expect(textOf(result)).toContain("from stdin one+two words text file 0,255,7");
  });

  test("run_cell keeps state across calls; an exception is an isError result with the traceback", async () => {
    await s.client().callTool({ name: "run_cell", arguments: { code: "x = 41\ndef twice(v):\n    return 2 * v" } });
    const value = await s.client().callTool({ name: "run_cell", arguments: { code: "twice(x + 1) // 2" } });
    expect(value.isError).toBe(false);
    expect(textOf(value)).toBe("42");
    const raised = await s.client().callTool({ name: "run_cell", arguments: { code: "1 / 0" } });
    expect(raised.isError).toBe(true);
    expect(textOf(raised)).toContain("ZeroDivisionError");
    await s.client().callTool({ name: "reset_context", arguments: {} });
    const gone = await s.client().callTool({ name: "run_cell", arguments: { code: "x" } });
    expect(textOf(gone)).toContain("NameError");
  });

  test("a matplotlib cell returns image content that decodes as a PNG", async () => {
    const result = await s.client().callTool({
      name: "run_cell",
      arguments: { code: "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.title('squares')", timeoutMs: 25_000 },
    });
    expect(result.isError).toBe(false);
    const image = ((result.content ?? []) as Content).find((c) => c.type === "image");
    expect(image?.mimeType).toBe("image/png");
    const png = Buffer.from(image!.data!, "base64");
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.length).toBeGreaterThan(1000);
  });

  test("files round-trip: text and binary, shared with run_code; list_files lists them", async () => {
    const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13]);
    await s.client().callTool({ name: "write_file", arguments: { path: "notes/a.txt", content: "héllo\n" } });
    await s.client().callTool({ name: "write_file", arguments: { path: "blob.bin", content: binary.toString("base64"), encoding: "base64" } });
    const seen = await runCode(s, { code: "print(open('notes/a.txt').read().strip(), list(open('blob.bin','rb').read()))\nopen('out.bin','wb').write(bytes(range(250, 256)))" });
    expect(textOf(seen)).toContain("héllo [0, 1, 2, 254, 255, 128, 10, 13]");
    const text = await s.client().callTool({ name: "read_file", arguments: { path: "notes/a.txt" } });
    expect(text.structuredContent).toMatchObject({ encoding: "utf8", content: "héllo\n" });
    const back = await s.client().callTool({ name: "read_file", arguments: { path: "blob.bin" } });
    expect(Buffer.from((back.structuredContent as { content: string }).content, "base64")).toEqual(binary);
    const made = await s.client().callTool({ name: "read_file", arguments: { path: "out.bin" } });
    expect(made.structuredContent).toMatchObject({ encoding: "base64", content: Buffer.from([250, 251, 252, 253, 254, 255]).toString("base64") });
    const listing = await s.client().callTool({ name: "list_files", arguments: {} });
    expect(textOf(listing)).toContain("notes/a.txt\t7 bytes");
    expect(textOf(listing)).toContain("blob.bin\t8 bytes");
  });

  test("a refused option (host networking, a limit above the policy, installs) is an MCP error, not a run", async () => {
    const refusals = [
      [{ runtime: "bash", code: "echo ran", network: "host" }, "network"],
      [{ runtime: "bash", code: "echo ran", timeoutMs: 3_600_000 }, "timeoutMs"],
      // In the python sandbox that exists: a run would leave its marker file there.
      [{ code: "open('refused-network', 'w').write('ran')", network: "host" }, "network"],
      [{ code: "open('refused-timeout', 'w').write('ran')", timeoutMs: 3_600_000 }, "timeoutMs"],
      [{ code: "open('refused-install', 'w').write('ran')", installPackages: ["six"] }, "installPackages"],
    ] as const;
    for (const [args, field] of refusals) {
      const error = await s.client().callTool({ name: "run_code", arguments: args }).then(
        (result) => ({ ran: textOf(result) }),
        (e: { code: number; message: string; data: { code: string; field: string } }) => e,
      );
      expect(error).toMatchObject({ code: -32602, data: { code: "policy-denied", field } });
      expect((error as { message: string }).message).toContain(`option "${field}" is not allowed`);
    }
    // run_cell is held to the same limits: the cell does not run either.
    const cell = await s.client().callTool({ name: "run_cell", arguments: { code: "refused_cell = 1", timeoutMs: 3_600_000 } }).then(
      () => null,
      (e: { code: number; data: { code: string; field: string } }) => e,
    );
    expect(cell).toMatchObject({ code: -32602, data: { code: "policy-denied", field: "timeoutMs" } });
    // nothing ran: no marker file, no variable (still works: the same calls within the policy run)
    expect(textOf(await s.client().callTool({ name: "list_files", arguments: {} }))).not.toContain("refused-");
    const defined = await s.client().callTool({ name: "run_cell", arguments: { code: "'refused_cell' in globals()" } });
    expect(textOf(defined)).toBe("False");
    const allowed = await runCode(s, { code: "open('allowed-run', 'w').write('ran')\nprint('ok')", timeoutMs: 10_000 });
    expect(allowed.isError).toBe(false);
    expect(textOf(await s.client().callTool({ name: "list_files", arguments: {} }))).toContain("allowed-run");
  });

  test("a long run sends progress notifications carrying its output so far", async () => {
    const seen: { progress: number; message: string }[] = [];
    let answered = false;
    const result = await s
      .client()
      .callTool(
        { name: "run_code", arguments: { code: "import time\nprint('tick 1', flush=True)\ntime.sleep(1.5)\nprint('tick 2', flush=True)\ntime.sleep(1.5)\nprint('done')" } },
        undefined,
        { onprogress: (p) => void (!answered && seen.push({ progress: p.progress, message: p.message ?? "" })) },
      )
      .finally(() => (answered = true));
    expect(textOf(result)).toContain("done");
    expect(seen.some((p) => p.message.includes("tick 1") && !p.message.includes("tick 2"))).toBe(true);
    expect(seen.some((p) => p.message.includes("tick 1\ntick 2"))).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
  });

  test("cancelling a call stops the program and every process it started; the session still works", async () => {
    const first = await runCode(s, { code: "print(1)" });
    const container = (first.structuredContent as { containerId: string }).containerId;
    const before = containerPids(container);
    const abort = new AbortController();
    const progress: string[] = [];
    const call = s.client().callTool(
      {
        name: "run_code",
        arguments: { code: "import subprocess, time\nsubprocess.Popen(['sleep', '300'])\nprint('started', flush=True)\ntime.sleep(300)" },
      },
      undefined,
      {
        signal: abort.signal,
        onprogress: (p) => {
          progress.push(p.message ?? "");
          if (p.message?.includes("started")) abort.abort();
        },
      },
    );
    await expect(call).rejects.toThrow();
    expect(progress.some((m) => m.includes("started"))).toBe(true);
    const cancelledAt = Date.now();
    // no process of the run is left: the program, its child, anything they started
    expect(await eventually(() => containerPids(container).every((pid) => before.includes(pid)), 10_000)).toBe(true);
    expect(containerProcesses(container)).not.toContain("sleep 300");
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    const after = await runCode(s, { code: "print('still here')" });
    expect(textOf(after)).toContain("still here");
  });

  test("cancelling a run_cell interrupts the cell; the interpreter keeps its state", async () => {
    await s.client().callTool({ name: "run_cell", arguments: { code: "kept = 5" } });
    const abort = new AbortController();
    const call = s.client().callTool({ name: "run_cell", arguments: { code: "import time\nprint('started', flush=True)\ntime.sleep(300)" } }, undefined, {
      signal: abort.signal,
      onprogress: (p) => p.message?.includes("started") && abort.abort(),
    });
    await expect(call).rejects.toThrow();
    // the interrupted cell no longer holds the interpreter: the next cell runs at once, with the state
    const next = await s.client().callTool({ name: "run_cell", arguments: { code: "kept * 2" } });
    expect(next.isError).toBe(false);
    expect(textOf(next)).toBe("10");
  }, 60_000);
}
