// The MCP tools: their descriptions (written for models), schemas and what each one does on an
// McpBackend. One interpreter per runtime for run_cell, started on first use and started again
// when it was lost; everything else is the session's sandbox of the runtime.
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import * as v from "valibot";
import { Isol8Error, RequestError } from "../errors";
import { isBase64 } from "../protocol/base64";
import { CellResultSchema, type ContextRuntime, type Isol8Context } from "../protocol/context";
import type { ExecutionRequest, ExecutionResult, ExecutionSummary } from "../protocol/execution";
import { formatIssues } from "../protocol/issues";
import { ExecutionResultSchema } from "../protocol/responses";
import type { McpBackend, McpSandbox } from "./backend";
import {
  ListFilesInputSchema,
  ListRuntimesInputSchema,
  ReadFileInputSchema,
  ResetContextInputSchema,
  RunCellInputSchema,
  type RunCodeInput,
  RunCodeInputSchema,
  WriteFileInputSchema,
} from "./tool-inputs";
import { cellToolResult, executionToolResult } from "./tool-results";
import { jsonSchemaOf, offeredInputSchema } from "./tool-schemas";

/** What a tool call gets besides its arguments. */
export interface ToolCall {
  /** Aborted when the client cancels the call (notifications/cancelled) or goes away. */
  signal: AbortSignal;
  /** Output so far, for a progress notification (dropped when the client asked for none). */
  progress(output: string): void;
  /** The MCP client's name (clientInfo.name), for the audit record. */
  client?: string;
}

interface ToolDefinition<S extends v.GenericSchema> {
  tool: Tool;
  schema: S;
  run(args: v.InferOutput<S>, call: ToolCall): Promise<CallToolResult>;
}

/** The tools of one MCP session, bound to its backend. */
export interface ToolSet {
  readonly list: Tool[];
  /** Validates the arguments and runs the tool; throws for isol8's own failures and refusals. */
  call(name: string, args: unknown, call: ToolCall): Promise<CallToolResult>;
}

const textResult = (text: string, structured: Record<string, unknown>): CallToolResult => ({ content: [{ type: "text", text }], structuredContent: structured });

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const asUtf8 = (bytes: Uint8Array): string | null => {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
};

/** The execution request of run_code's arguments (only the fields given). */
function requestOf(input: RunCodeInput): ExecutionRequest {
  const request: ExecutionRequest = { code: input.code, runtime: input.runtime ?? "python" };
  for (const key of ["stdin", "args", "timeoutMs", "files", "network", "allow", "installPackages"] as const) {
    if (input[key] !== undefined) (request as Record<string, unknown>)[key] = input[key];
  }
  return request;
}

export function createToolSet(backend: McpBackend): ToolSet {
  /** run_cell's interpreter per runtime, with the sandbox it lives in. */
  const contexts = new Map<ContextRuntime, { sandbox: McpSandbox; context: Isol8Context }>();

  /** The runtime's interpreter: the known one while it is ready, restarted when lost, else a new one. */
  const interpreter = async (runtime: ContextRuntime, sandbox: McpSandbox, notes: string[]): Promise<Isol8Context> => {
    const known = contexts.get(runtime);
    if (known && known.sandbox === sandbox) {
      const info = (await sandbox.listContexts()).find((c) => c.id === known.context.id);
      if (info?.state === "ready") return known.context;
      if (info?.state === "lost") {
        await known.context.restart();
        notes.push(`(the previous interpreter was lost (${info.lostReason ?? "unknown"}) and was restarted: its variables are gone)`);
        return known.context;
      }
    }
    const context = await sandbox.createContext({ runtime });
    if (known) notes.push("(a new interpreter: the previous one and its variables are gone)");
    contexts.set(runtime, { sandbox, context });
    return context;
  };

  const runCode: ToolDefinition<typeof RunCodeInputSchema> = {
    tool: {
      name: "run_code",
      title: "Run code",
      description:
        "Run a program in an isolated sandbox (a locked-down container: no network unless asked, memory, CPU and time limits) " +
        "and get its stdout, stderr and exit code. Each call is a new process: variables do not persist between calls " +
        "(use run_cell for that), but files under /sandbox do, for the same runtime, until the session ends. " +
        "A failing program (non-zero exit, timeout, killed) is a result with isError, not an error.",
      inputSchema: offeredInputSchema(jsonSchemaOf(RunCodeInputSchema), backend.offered ?? { networkModes: ["none", "filtered", "host"], allowPatterns: true, installs: true }),
      outputSchema: jsonSchemaOf(ExecutionResultSchema),
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    },
    schema: RunCodeInputSchema,
    async run(input, call) {
      const request = backend.admit(requestOf(input));
      const release = await backend.slot();
      try {
        return await backend.use(request.runtime ?? "python", async (sandbox, audit) => {
          let stdout = "";
          let stderr = "";
          let output = "";
          let summary: ExecutionSummary | undefined;
          for await (const event of sandbox.executeStream(request, { signal: call.signal, audit: { ...audit, ...(call.client ? { client: call.client } : {}) } })) {
            if (event.type === "stdout") stdout += event.data;
            else if (event.type === "stderr") stderr += event.data;
            else if (event.type === "exit") summary = event.data;
            else throw new Isol8Error(event.data);
            if (event.type === "stdout" || event.type === "stderr") call.progress((output += event.data));
          }
          if (!summary) throw new Isol8Error("Cannot run the program: its stream ended without a result");
          const result: ExecutionResult = { ...summary, stdout, stderr };
          return executionToolResult(result);
        });
      } finally {
        release();
      }
    },
  };

  const runCell: ToolDefinition<typeof RunCellInputSchema> = {
    tool: {
      name: "run_cell",
      title: "Run a cell in a persistent interpreter",
      description:
        "Run code in a persistent interpreter, like a notebook cell: variables, imports and functions stay for the next " +
        "run_cell of the same runtime. Returns printed output, rich results (plots as images, HTML and markdown as text) " +
        "and the value of a trailing expression. Python has matplotlib's inline figures when the image has matplotlib. " +
        "An exception is a result with isError and the traceback. The interpreter shares /sandbox with run_code of its runtime.",
      inputSchema: jsonSchemaOf(RunCellInputSchema),
      outputSchema: jsonSchemaOf(CellResultSchema),
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    },
    schema: RunCellInputSchema,
    async run(input, call) {
      const runtime = input.runtime ?? "python";
      // The policy's limits hold for cells too (a timeout above the maximum is refused).
      backend.admit({ code: "", runtime, ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}) });
      const release = await backend.slot();
      try {
        return await backend.use(runtime, async (sandbox, audit) => {
          const notes: string[] = [];
          const context = await interpreter(runtime, sandbox, notes);
          let output = "";
          const onOutput = (data: string) => call.progress((output += data));
          const result = await context.run(input.code, {
            ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
            signal: call.signal,
            audit: { ...audit, ...(call.client ? { client: call.client } : {}) },
            onStdout: onOutput,
            onStderr: onOutput,
          });
          return cellToolResult(result, notes);
        });
      } finally {
        release();
      }
    },
  };

  const resetContext: ToolDefinition<typeof ResetContextInputSchema> = {
    tool: {
      name: "reset_context",
      title: "Restart the interpreter",
      description: "Restart run_cell's interpreter of a runtime: its variables and imports are gone; files under /sandbox stay.",
      inputSchema: jsonSchemaOf(ResetContextInputSchema),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    schema: ResetContextInputSchema,
    async run(input) {
      const runtime = input.runtime ?? "python";
      const known = contexts.get(runtime);
      if (!known) return textResult(`no ${runtime} interpreter was running: the next run_cell starts a fresh one`, { runtime, restarted: false });
      await backend.use(runtime, async (sandbox) => {
        if (known.sandbox !== sandbox || !(await sandbox.listContexts()).some((c) => c.id === known.context.id)) contexts.delete(runtime);
        else await known.context.restart();
      });
      return textResult(`the ${runtime} interpreter was restarted: its variables are gone`, { runtime, restarted: true });
    },
  };

  const writeFile: ToolDefinition<typeof WriteFileInputSchema> = {
    tool: {
      name: "write_file",
      title: "Write a file into the sandbox",
      description: "Write a file under /sandbox of a runtime's sandbox (text, or base64 for binary content), e.g. data for run_code or run_cell.",
      inputSchema: jsonSchemaOf(WriteFileInputSchema),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    schema: WriteFileInputSchema,
    async run(input) {
      if (input.encoding === "base64" && !isBase64(input.content)) throw new RequestError("Invalid arguments: content: must be base64", "content");
      const bytes = input.encoding === "base64" ? Buffer.from(input.content, "base64") : Buffer.from(input.content, "utf8");
      if (backend.maxFileBytes !== undefined && bytes.length > backend.maxFileBytes) {
        throw new RequestError(`Cannot write "${input.path}": ${bytes.length} bytes, over the limit of ${backend.maxFileBytes}`, "content");
      }
      await backend.use(input.runtime ?? "python", (sandbox) => sandbox.putFile(input.path, bytes));
      return textResult(`wrote ${bytes.length} bytes to ${input.path}`, { path: input.path, size: bytes.length });
    },
  };

  const readFile: ToolDefinition<typeof ReadFileInputSchema> = {
    tool: {
      name: "read_file",
      title: "Read a file from the sandbox",
      description: "Read a file under /sandbox of a runtime's sandbox: as text when it is UTF-8, else as base64 (or as asked with encoding).",
      inputSchema: jsonSchemaOf(ReadFileInputSchema),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    schema: ReadFileInputSchema,
    async run(input) {
      const bytes = await backend.use(input.runtime ?? "python", (sandbox) => sandbox.getFile(input.path));
      if (backend.maxFileBytes !== undefined && bytes.length > backend.maxFileBytes) {
        throw new RequestError(`Cannot read "${input.path}": ${bytes.length} bytes, over the limit of ${backend.maxFileBytes}`, "path");
      }
      const text = input.encoding === "base64" ? null : asUtf8(bytes);
      if (input.encoding === "utf8" && text === null) {
        throw new RequestError(`Cannot read "${input.path}" as text: it is not valid UTF-8`, "encoding", 'read it with encoding "base64"');
      }
      const encoding = text === null ? "base64" : "utf8";
      const content = text ?? Buffer.from(bytes).toString("base64");
      return { content: [{ type: "text", text: content }], structuredContent: { path: input.path, size: bytes.length, encoding, content } };
    },
  };

  const listFiles: ToolDefinition<typeof ListFilesInputSchema> = {
    tool: {
      name: "list_files",
      title: "List the sandbox's files",
      description: "List the regular files under /sandbox of a runtime's sandbox, with their sizes (symlinks are not followed).",
      inputSchema: jsonSchemaOf(ListFilesInputSchema),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    schema: ListFilesInputSchema,
    async run(input) {
      const runtime = input.runtime ?? "python";
      const listing = await backend.use(runtime, (sandbox) => {
        if (!sandbox.listFiles) throw new Isol8Error("Cannot list the files: this engine does not list sandboxes", "read a known path with read_file");
        return sandbox.listFiles();
      });
      const lines = listing.files.map((file) => `${file.path}\t${file.size} bytes`);
      const text = lines.length ? lines.join("\n") : `(no files under /sandbox of the ${runtime} sandbox)`;
      return textResult(listing.truncated ? `${text}\n(the listing stopped at its cap)` : text, { ...listing });
    },
  };

  const listRuntimes: ToolDefinition<typeof ListRuntimesInputSchema> = {
    tool: {
      name: "list_runtimes",
      title: "List the runtimes",
      description: "List the runtimes run_code and run_cell accept, with whether their sandbox image is ready.",
      inputSchema: jsonSchemaOf(ListRuntimesInputSchema),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    schema: ListRuntimesInputSchema,
    async run() {
      const runtimes = await backend.runtimes();
      const lines = runtimes.map((r) => `${r.name}: image ${r.imageStatus}${Object.keys(r.versions).length ? ` (${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(", ")})` : ""}`);
      return textResult(lines.join("\n"), { runtimes });
    },
  };

  const definitions = [runCode, runCell, resetContext, writeFile, readFile, listFiles, listRuntimes] as ToolDefinition<v.GenericSchema>[];
  const byName = new Map(definitions.map((d) => [d.tool.name, d]));
  return {
    list: definitions.map((d) => d.tool),
    async call(name, args, call) {
      const definition = byName.get(name);
      if (!definition) throw new RequestError(`Cannot call tool "${name}": no such tool`, "name", `the tools: ${[...byName.keys()].join(", ")}`);
      const parsed = v.safeParse(definition.schema, args ?? {});
      if (!parsed.success) {
        const first = parsed.issues[0]!;
        throw new RequestError(`Invalid arguments for ${name}: ${formatIssues(parsed.issues).join("; ")}`, v.getDotPath(first) ?? "arguments");
      }
      return definition.run(parsed.output, call);
    },
  };
}
