// The OpenAPI 3.1 description of the HTTP API (GET /openapi.json, `isol8 openapi`). Bodies and
// answers are the protocol's valibot schemas, converted by @valibot/to-json-schema; this file
// only says which route takes and answers which. openapi.test.ts checks that every route of the
// app is here and everything here is a route of the app.
import { type ConversionConfig, toJsonSchemaDefs } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { ErrorBodySchema } from "../protocol/errors";
import { CleanupBodySchema, CreateSessionBodySchema, ExecuteBodySchema, PutFileBodySchema } from "../protocol/http";
import { CancelBodySchema, CellResultSchema, CreateContextRequestSchema, RunCellRequestSchema } from "../protocol/context";
import {
  CancelledSchema,
  CellEventSchema,
  CleanupResultSchema,
  ContextAnswerSchema,
  ContextListSchema,
  CreatedSessionSchema,
  DeletedSchema,
  StoppedSchema,
  ExecutionResultSchema,
  FileContentSchema,
  HealthSchema,
  OkSchema,
  ReadinessSchema,
  RuntimeListSchema,
  SessionListSchema,
  StreamEventSchema,
} from "../protocol/responses";
import { CreateKeyBodySchema, IssuedKeySchema, KeyInfoSchema, KeyListSchema, UsageSchema } from "../protocol/tenancy";

/** Component schemas, by name: every body and answer the API speaks. */
const SCHEMAS = {
  ExecuteBody: ExecuteBodySchema,
  PutFileBody: PutFileBodySchema,
  CleanupBody: CleanupBodySchema,
  CreateSessionBody: CreateSessionBodySchema,
  CreateContextBody: CreateContextRequestSchema,
  RunCellBody: RunCellRequestSchema,
  CancelBody: CancelBodySchema,
  Context: ContextAnswerSchema,
  ContextList: ContextListSchema,
  CellResult: CellResultSchema,
  CellEvent: CellEventSchema,
  Cancelled: CancelledSchema,
  CreatedSession: CreatedSessionSchema,
  RuntimeList: RuntimeListSchema,
  ExecutionResult: ExecutionResultSchema,
  StreamEvent: StreamEventSchema,
  Error: ErrorBodySchema,
  Health: HealthSchema,
  Readiness: ReadinessSchema,
  SessionList: SessionListSchema,
  FileContent: FileContentSchema,
  Ok: OkSchema,
  Deleted: DeletedSchema,
  Stopped: StoppedSchema,
  CleanupResult: CleanupResultSchema,
  CreateKeyBody: CreateKeyBodySchema,
  IssuedKey: IssuedKeySchema,
  KeyInfo: KeyInfoSchema,
  KeyList: KeyListSchema,
  Usage: UsageSchema,
} satisfies Record<string, v.GenericSchema>;
type SchemaName = keyof typeof SCHEMAS;

type Json = Record<string, unknown>;
const ref = (name: SchemaName): Json => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (name: SchemaName): Json => ({ "application/json": { schema: ref(name) } });

/** Who may call a route: anyone, an API key, an API key or the metrics token, or an admin (bootstrap) key. */
type Access = "open" | "key" | "metrics" | "admin";

interface Operation {
  summary: string;
  description?: string;
  access: Access;
  /** The JSON body's schema (415 for another media type, 413 over the size limit). */
  body?: SchemaName;
  /** Parameters: path ones from the template, plus query and header ones. */
  query?: { name: string; description: string; required?: boolean }[];
  headers?: { name: string; description: string }[];
  /** The 2xx answer. */
  ok: { status: number; description: string; content: Json; headers?: Json };
  /** A non-2xx answer that is not an error body (e.g. 503 "not ready" with the readiness checks). */
  other?: { status: number; description: string; content: Json };
  /** Names a session or a stream, which another instance may hold (forwarded, else 421). */
  sessionOrStream?: true;
  /** Failure statuses beyond the ones every route of its access has. */
  errors?: number[];
  tags: string[];
}

const text = (type: string, description: string): Json => ({ [type]: { schema: { type: "string", description } } });

const SSE_DESCRIPTION =
  "Server-Sent Events. Each event has an `id` (1, 2, 3, ... per stream) and a `data:` line holding one " +
  "JSON StreamEvent; `: heartbeat` comments come every 15 s. `exit` or `error` is always last.";

const sseContent: Json = {
  "text/event-stream": {
    schema: { type: "string", description: SSE_DESCRIPTION },
    "x-event-data": ref("StreamEvent"),
  },
};

const STREAM_ID_HEADER = { "x-stream-id": { description: "The stream's id: resume it at GET /execute/stream/{streamId}", schema: { type: "string" } } };

/** Every operation of the API, keyed `METHOD path`. */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  "GET /": {
    summary: "The playground: a page to try isol8 in a browser",
    description: "The page holds no key: the user types one, kept in sessionStorage. Off with server.playground false (404).",
    access: "open",
    ok: { status: 200, description: "The page", content: text("text/html", "HTML") },
    errors: [404],
    tags: ["playground"],
  },
  "GET /playground/{asset}": {
    summary: "The playground's script and style sheet (embedded in the binary)",
    access: "open",
    ok: { status: 200, description: "The asset", content: { ...text("text/javascript", "JavaScript"), ...text("text/css", "CSS") } },
    errors: [404],
    tags: ["playground"],
  },
  "GET /health": {
    summary: "Liveness: the process answers",
    access: "open",
    ok: { status: 200, description: "Alive", content: jsonContent("Health") },
    other: { status: 503, description: "Shutting down", content: jsonContent("Health") },
    tags: ["operations"],
  },
  "GET /ready": {
    summary: "Readiness: Docker answers, the runtime images are present, the warm pool was filled",
    access: "open",
    ok: { status: 200, description: "Ready to run executions", content: jsonContent("Readiness") },
    other: { status: 503, description: "Not ready: `reason` names the first failing check (see Retry-After)", content: jsonContent("Readiness") },
    tags: ["operations"],
  },
  "GET /openapi.json": {
    summary: "This description of the API (OpenAPI 3.1)",
    access: "open",
    ok: { status: 200, description: "The OpenAPI document", content: { "application/json": { schema: { type: "object" } } } },
    tags: ["operations"],
  },
  "GET /metrics": {
    summary: "Prometheus metrics: executions, phases, queue, pool, containers, proxy, sessions, Docker errors, HTTP",
    description: "An API key, or server.metricsToken when the config sets one.",
    access: "metrics",
    ok: { status: 200, description: "Prometheus text exposition format 0.0.4", content: text("text/plain", "Prometheus exposition") },
    errors: [404],
    tags: ["operations"],
  },
  "POST /execute": {
    summary: "Run code and answer with its result",
    description: "Outcomes of the code (exit code, timeout, OOM, truncation) are fields of the result, never errors.",
    access: "key",
    sessionOrStream: true,
    body: "ExecuteBody",
    ok: { status: 200, description: "The result", content: jsonContent("ExecutionResult") },
    errors: [409, 410],
    tags: ["executions"],
  },
  "POST /execute/stream": {
    summary: "Run code and stream its output as Server-Sent Events",
    description: "Closing the connection stops the program, unless the client resumes the stream within the resume window.",
    access: "key",
    sessionOrStream: true,
    body: "ExecuteBody",
    ok: { status: 200, description: "The event stream", content: sseContent, headers: STREAM_ID_HEADER },
    errors: [409, 410],
    tags: ["executions"],
  },
  "GET /execute/stream/{streamId}": {
    summary: "Resume a running or just-finished stream after a dropped connection",
    description:
      "Replays every event after `Last-Event-ID` exactly once, then follows the execution live until its last " +
      "event. Streams are kept for a short time after they end, bounded in count and bytes; an evicted stream is 404.",
    access: "key",
    sessionOrStream: true,
    headers: [{ name: "last-event-id", description: "The id of the last event received (0 or absent: from the start)" }],
    ok: { status: 200, description: "The rest of the event stream", content: sseContent, headers: STREAM_ID_HEADER },
    errors: [404, 410],
    tags: ["executions"],
  },
  "DELETE /execute/stream/{streamId}": {
    summary: "Stop a streamed execution at once",
    description: "For a client that leaves on purpose: without it, a stream no one reads stops its program after server.streamResumeMs.",
    access: "key",
    sessionOrStream: true,
    ok: { status: 200, description: "Stopped (or it had already ended)", content: jsonContent("Stopped") },
    errors: [404],
    tags: ["executions"],
  },
  "POST /file": {
    summary: "Write a file into a session's container",
    access: "key",
    sessionOrStream: true,
    body: "PutFileBody",
    ok: { status: 200, description: "Written", content: jsonContent("Ok") },
    errors: [404, 409],
    tags: ["sessions"],
  },
  "GET /file": {
    summary: "Read a file from a session's container",
    access: "key",
    sessionOrStream: true,
    query: [
      { name: "sessionId", description: "The session", required: true },
      { name: "path", description: "A path under /sandbox", required: true },
    ],
    ok: { status: 200, description: "The file", content: jsonContent("FileContent") },
    errors: [400, 404, 409, 413],
    tags: ["sessions"],
  },
  "GET /sessions": {
    summary: "The caller's sessions on the instance that answers",
    description: "An admin key lists every key's sessions (each with its owner) with `?all=true`.",
    access: "key",
    query: [{ name: "all", description: "true: every key's sessions (admin keys only)" }],
    ok: { status: 200, description: "Sessions of this key", content: jsonContent("SessionList") },
    tags: ["sessions"],
  },
  "POST /sessions": {
    summary: "Create a session (a container whose files persist between executions), before any execution",
    description: "Without an id the server chooses one. Naming an existing session of the caller answers 200 with created false.",
    access: "key",
    sessionOrStream: true,
    body: "CreateSessionBody",
    ok: { status: 201, description: "Created (200: it already existed)", content: jsonContent("CreatedSession") },
    errors: [429],
    tags: ["sessions"],
  },
  "GET /runtimes": {
    summary: "The runtimes this server offers, and whether their images are there",
    access: "key",
    ok: { status: 200, description: "The runtimes", content: jsonContent("RuntimeList") },
    tags: ["operations"],
  },
  "POST /sessions/{id}/contexts": {
    summary: "Start a code-interpreter context (a long-lived interpreter) in a session",
    description: "Creates the session when the caller has none of that id. Each context runs as its own uid. Over server.maxContextsPerSession: 429.",
    access: "key",
    body: "CreateContextBody",
    ok: { status: 201, description: "Started", content: jsonContent("Context") },
    errors: [429],
    tags: ["contexts"],
  },
  "GET /sessions/{id}/contexts": {
    summary: "The session's contexts",
    access: "key",
    ok: { status: 200, description: "Contexts of the session", content: jsonContent("ContextList") },
    errors: [400, 404],
    tags: ["contexts"],
  },
  "DELETE /sessions/{id}/contexts/{cid}": {
    summary: "Close a context (its interpreter and every process it started)",
    access: "key",
    ok: { status: 200, description: "Closed", content: jsonContent("Deleted") },
    errors: [400, 404],
    tags: ["contexts"],
  },
  "POST /sessions/{id}/contexts/{cid}/restart": {
    summary: "Restart a context's interpreter (its state is gone; files in /sandbox stay)",
    access: "key",
    ok: { status: 200, description: "Restarted", content: jsonContent("Context") },
    errors: [400, 404],
    tags: ["contexts"],
  },
  "POST /sessions/{id}/contexts/{cid}/run": {
    summary: "Run a cell in a context and answer with its result (output, rich results, error, artifacts)",
    description: "Outcomes of the cell (an exception, an interrupt at its timeout, a lost context) are fields of the result.",
    access: "key",
    body: "RunCellBody",
    ok: { status: 200, description: "The cell's result", content: jsonContent("CellResult") },
    errors: [404, 410],
    tags: ["contexts"],
  },
  "POST /sessions/{id}/contexts/{cid}/run/stream": {
    summary: "Run a cell and stream its output and rich results as Server-Sent Events",
    description: "Closing the connection interrupts the cell.",
    access: "key",
    body: "RunCellBody",
    ok: {
      status: 200,
      description: "The cell's events; `done` (or `error`) is last",
      content: { "text/event-stream": { schema: { type: "string", description: "Server-Sent Events, each `data:` one JSON CellEvent" }, "x-event-data": ref("CellEvent") } },
    },
    errors: [404, 410],
    tags: ["contexts"],
  },
  "POST /sessions/{id}/cancel": {
    summary: "Interrupt the running cell with this execution id",
    access: "key",
    body: "CancelBody",
    ok: { status: 200, description: "Whether a cell was interrupted", content: jsonContent("Cancelled") },
    errors: [404],
    tags: ["contexts"],
  },
  "POST /mcp": {
    summary: "MCP streamable HTTP endpoint: send a JSON-RPC message of the Model Context Protocol",
    description:
      "The Model Context Protocol (streamable HTTP transport) for agents: tools run_code, run_cell, reset_context, write_file, " +
      "read_file, list_files, list_runtimes, under this server's policy. An `initialize` request without Mcp-Session-Id starts " +
      "a session (its id comes back in Mcp-Session-Id; send it with every later request); other requests need it. A request " +
      "is answered as JSON or as an event stream (progress notifications, then the response). Errors of the MCP layer are " +
      "JSON-RPC error objects; a session of another key is 404.",
    access: "key",
    headers: [
      { name: "mcp-session-id", description: "The MCP session (absent only on initialize)" },
      { name: "mcp-protocol-version", description: "The negotiated MCP protocol version" },
    ],
    ok: {
      status: 200,
      description: "The JSON-RPC response, or an event stream ending with it (202 without a body for a notification or response)",
      content: {
        "application/json": { schema: { type: "object", description: "A JSON-RPC response" } },
        "text/event-stream": { schema: { type: "string", description: "Server-Sent Events, each `data:` one JSON-RPC message" } },
      },
      headers: { "mcp-session-id": { description: "The session's id (on initialize)", schema: { type: "string" } } },
    },
    errors: [400, 404, 406],
    tags: ["mcp"],
  },
  "GET /mcp": {
    summary: "MCP streamable HTTP endpoint: the session's stream of server messages",
    access: "key",
    headers: [{ name: "mcp-session-id", description: "The MCP session" }],
    ok: { status: 200, description: "Server-Sent Events, each `data:` one JSON-RPC message", content: text("text/event-stream", "Server-Sent Events") },
    errors: [400, 404, 406],
    tags: ["mcp"],
  },
  "DELETE /mcp": {
    summary: "MCP streamable HTTP endpoint: end the session (its sandboxes are removed)",
    access: "key",
    headers: [{ name: "mcp-session-id", description: "The MCP session" }],
    ok: { status: 200, description: "Ended", content: { "application/json": { schema: { type: "object" } } } },
    errors: [400, 404],
    tags: ["mcp"],
  },
  "DELETE /session/{id}": {
    summary: "Delete one of the caller's sessions (its container and files)",
    description: "An admin key may delete another key's session by naming its owner (`?owner=key:<id>`).",
    access: "key",
    sessionOrStream: true,
    query: [{ name: "owner", description: "The owning principal (admin keys only)" }],
    ok: { status: 200, description: "Deleted", content: jsonContent("Deleted") },
    errors: [400, 404],
    tags: ["sessions"],
  },
  "POST /cleanup": {
    summary: "Remove the caller's idle sessions and this server's idle pooled containers (and images when asked)",
    access: "key",
    body: "CleanupBody",
    ok: { status: 200, description: "What was removed", content: jsonContent("CleanupResult") },
    tags: ["operations"],
  },
  "GET /usage": {
    summary: "The caller's usage now (running executions, sessions, CPU seconds today, requests left) and its quotas and policy",
    access: "key",
    ok: { status: 200, description: "Usage and limits", content: jsonContent("Usage") },
    tags: ["keys"],
  },
  "GET /keys": {
    summary: "Every key of the key store (never the keys themselves)",
    access: "admin",
    ok: { status: 200, description: "The keys", content: jsonContent("KeyList") },
    tags: ["keys"],
  },
  "POST /keys": {
    summary: "Create a key with a name, a policy and quotas; the answer shows the key once",
    description: "The store keeps only the key's SHA-256. The policy can only narrow the server's.",
    access: "admin",
    body: "CreateKeyBody",
    ok: { status: 201, description: "The new key (store it now) and its record", content: jsonContent("IssuedKey") },
    tags: ["keys"],
  },
  "DELETE /keys/{id}": {
    summary: "Revoke a key: it stops working within 1 s on every instance sharing the store",
    access: "admin",
    ok: { status: 200, description: "The revoked key's record", content: jsonContent("KeyInfo") },
    errors: [400, 404],
    tags: ["keys"],
  },
  "POST /keys/{id}/rotate": {
    summary: "Give a key a new secret (same id, policy, quotas and sessions); the old one stops working",
    access: "admin",
    ok: { status: 200, description: "The new key (store it now) and its record", content: jsonContent("IssuedKey") },
    errors: [400, 404],
    tags: ["keys"],
  },
  "GET /keys/{id}/usage": {
    summary: "A key's usage now and its quotas and policy",
    access: "admin",
    ok: { status: 200, description: "Usage and limits", content: jsonContent("Usage") },
    errors: [400, 404],
    tags: ["keys"],
  },
};

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Invalid request (code invalid-request, `field` names it)",
  401: "No API key (code unauthorized)",
  403: "Wrong or revoked key, or not an admin key (forbidden), or an option above the key's policy (policy-denied, `field` names it)",
  404: "Not found (not-found), or a refused file operation (file-refused, `reason` says why)",
  406: "Not acceptable: the MCP endpoint needs Accept with application/json and text/event-stream (a JSON-RPC error object)",
  405: "Wrong method (method-not-allowed; Allow lists the right ones)",
  409: "Conflict with the addressed state (conflict, or file-refused with reason symlink)",
  410: "The session's container is gone (session-lost)",
  413: "Body or file over the limit (payload-too-large, or file-refused with reason too-large)",
  415: "The body is not JSON (unsupported-media-type)",
  421: "The session or stream is held by another instance and the request was already forwarded once (misdirected; Location names it)",
  429: "Too many executions, sessions or wrong keys (too-many-requests), or a quota of the key reached (quota-exceeded, `quota` names it); see Retry-After",
  500: "isol8 failed (internal)",
  502: "The instance holding the session or stream did not answer the forwarded request (unavailable, `retryable`)",
  503: "Not now: shutting down, overloaded, Docker or an image unavailable, sandbox failed (`retryable`; see Retry-After)",
};

/** The failure statuses of an operation: its own, plus those every route of its kind has. */
function errorStatuses(op: Operation): number[] {
  const statuses = new Set(op.errors ?? []);
  statuses.add(405).add(500);
  if (op.access !== "open") [401, 403, 429, 503].forEach((s) => statuses.add(s));
  if (op.sessionOrStream) statuses.add(421).add(502);
  if (op.body) [400, 413, 415, 429, 503].forEach((s) => statuses.add(s));
  return [...statuses].sort((a, b) => a - b);
}

/** `/session/{id}` → the path parameters it names. */
const pathParameters = (path: string): Json[] =>
  [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));

function operationObject(key: string, op: Operation): Json {
  const [method, path] = key.split(" ") as [string, string];
  const parameters = [
    ...pathParameters(path),
    ...(op.query ?? []).map((q) => ({ name: q.name, in: "query", required: q.required ?? false, description: q.description, schema: { type: "string" } })),
    ...(op.headers ?? []).map((h) => ({ name: h.name, in: "header", required: false, description: h.description, schema: { type: "string" } })),
    { $ref: "#/components/parameters/RequestId" },
  ];
  const responses: Json = {
    [String(op.ok.status)]: { description: op.ok.description, headers: { "x-request-id": { $ref: "#/components/headers/RequestId" }, ...op.ok.headers }, content: op.ok.content },
  };
  for (const status of errorStatuses(op)) responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  if (op.other) responses[String(op.other.status)] = { description: op.other.description, content: op.other.content };
  return {
    operationId: operationId(method, path),
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: op.tags,
    security: op.access === "open" ? [] : op.access === "metrics" ? [{ apiKey: [] }, { metricsToken: [] }] : [{ apiKey: [] }],
    parameters,
    ...(op.body ? { requestBody: { required: op.body !== "CleanupBody", content: jsonContent(op.body) } } : {}),
    responses,
  };
}

/** `GET /execute/stream/{streamId}` → `getExecuteStreamByStreamId`. */
function operationId(method: string, path: string): string {
  const words = path
    .split("/")
    .filter(Boolean)
    .map((part) => (part.startsWith("{") ? `By${cap(part.slice(1, -1))}` : cap(part.replace(/\.json$/, "").replace(/[^A-Za-z0-9]/g, ""))));
  return `${method.toLowerCase()}${words.join("") || "Root"}`;
}
const cap = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** Converts the protocol's schemas; references between them point into components. */
function componentSchemas(): Json {
  const config: ConversionConfig = {
    target: "draft-2020-12",
    // Checks without a JSON Schema form (size caps, custom checks) stay server-side only.
    errorMode: "ignore",
    overrideSchema: (context) =>
      // Bytes in `files` exist for library callers only: JSON clients send text or { base64 }.
      context.valibotSchema.type === "instance" ? { not: {}, description: "bytes (library callers only)" } : undefined,
  };
  const converted = toJsonSchemaDefs(SCHEMAS, config);
  const text = JSON.stringify(converted).replaceAll('"#/$defs/', '"#/components/schemas/');
  return JSON.parse(text) as Json;
}

/** The whole OpenAPI 3.1 document. */
export function openApiDocument(options: { version: string }): Json {
  const paths: Record<string, Json> = {};
  for (const [key, op] of Object.entries(OPERATIONS)) {
    const [method, path] = key.split(" ") as [string, string];
    (paths[path] ??= {})[method.toLowerCase()] = operationObject(key, op);
  }
  const responses = Object.fromEntries(
    Object.entries(STATUS_TEXT).map(([status, description]) => [
      `Error${status}`,
      { description, headers: { "x-request-id": { $ref: "#/components/headers/RequestId" } }, content: jsonContent("Error") },
    ]),
  );
  return {
    openapi: "3.1.0",
    info: {
      title: "isol8",
      version: options.version,
      description:
        "Run untrusted code in locked-down containers. Every failure answers `{ error: { code, message, field?, reason?, retryable?, quota? } }`. " +
        "Every answer carries X-Request-Id (the request's own when it sent a valid one).",
      license: { name: "MIT", identifier: "MIT" },
    },
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "One of the server's API keys (--key, ISOL8_API_KEY)" },
        metricsToken: { type: "http", scheme: "bearer", description: "server.metricsToken: may read GET /metrics only" },
      },
      parameters: {
        RequestId: {
          name: "x-request-id",
          in: "header",
          required: false,
          description: "Kept when 1-128 characters of A-Z a-z 0-9 . _ : -; otherwise the server makes one",
          schema: { type: "string", pattern: "^[A-Za-z0-9._:-]{1,128}$" },
        },
      },
      headers: { RequestId: { description: "The request's id (also in the access log and the audit record)", schema: { type: "string" } } },
      responses,
    },
  };
}
