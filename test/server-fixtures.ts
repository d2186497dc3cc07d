// A server app over stand-in engines, for the server's in-process tests.
import { defaultConfig, type Isol8Config } from "../src/config/schema";
import type { ExecutionRequest, ExecutionResult } from "../src/protocol/execution";
import type { RuntimeInfo } from "../src/protocol/runtime-info";
import { FileError, RequestError } from "../src/errors";
import { createServerApp, type RequestContext, type ServerAppDeps } from "../src/server/app";
import type { ExecuteOptions } from "../src/protocol/isol8";
import { Slots } from "../src/lib/slots";
import { type SessionEngine, SessionManager } from "../src/server/sessions";

export const KEY = "test-key";

/** A stand-in engine: records requests, answers at once (or when released). */
export function fakeEngine(options: { hold?: Promise<void> } = {}) {
  const seen: ExecutionRequest[] = [];
  const contexts: ExecuteOptions[] = [];
  const result = (request: ExecutionRequest): ExecutionResult => ({
    executionId: "id",
    runtime: request.runtime ?? "python",
    timestamp: new Date(0).toISOString(),
    stdout: `ran ${request.code}`,
    stderr: "",
    exitCode: 0,
    durationMs: 1,
    phases: { queueMs: 0, acquireMs: 0, installMs: 0, runMs: 1, collectMs: 0 },
    truncated: false,
    timedOut: false,
    oomKilled: false,
    containerId: "c",
    resourceUsage: { cpuTimeMs: 0, peakMemoryBytes: 0, stdoutBytes: 0, stderrBytes: 0, networkBytesIn: null, networkBytesOut: null, killReason: null },
  });
  const validate = (request: ExecutionRequest) => {
    if (request.code === "invalid") throw new RequestError("Invalid request: code", "code");
  };
  const engine = {
    seen,
    contexts,
    async execute(request: ExecutionRequest, executeOptions: ExecuteOptions = {}) {
      validate(request);
      seen.push(request);
      contexts.push(executeOptions);
      await options.hold;
      return result(request);
    },
    /** Like DockerIsol8: an invalid request throws at the call, before any event. */
    executeStream(request: ExecutionRequest) {
      validate(request);
      return (async function* () {
        seen.push(request);
        yield { type: "stdout" as const, data: "out" };
        const { stdout: _s, stderr: _e, ...summary } = result(request);
        yield { type: "exit" as const, data: summary };
      })();
    },
    files: new Map<string, Buffer>(),
    async putFile(path: string, content: Uint8Array) {
      engine.files.set(path, Buffer.from(content));
    },
    async getFile(path: string) {
      const file = engine.files.get(path);
      if (!file) throw new FileError("not-found", `Cannot read "${path}": no such file`);
      return file;
    },
    async stop() {},
    sessionRuntime: null,
    sessionContainerId: null,
  };
  return engine;
}

/** A maker of session engines (makeApp's sessionEngine) that record what executeStream was asked (run_code, run_cell's runs). */
export function recordingEngine(seen: { request: ExecutionRequest; options: ExecuteOptions }[]) {
  return () => {
    const engine = fakeEngine();
    const stream = engine.executeStream;
    return Object.assign(engine, {
      executeStream(request: ExecutionRequest, options: ExecuteOptions = {}) {
        seen.push({ request, options });
        return stream(request);
      },
    });
  };
}

export function makeApp(
  config: Isol8Config = defaultConfig(),
  engine = fakeEngine(),
  options: {
    keys?: string[];
    now?: () => number;
    heartbeatMs?: number;
    sessionEngine?: () => ReturnType<typeof fakeEngine>;
    runtimes?: () => Promise<RuntimeInfo[]>;
  } & Partial<Pick<ServerAppDeps, "observe" | "newRequestId" | "ready" | "metrics" | "playground" | "streams" | "tenancy">> = {},
) {
  const { keys: _keys, now: _now, heartbeatMs: _heartbeatMs, sessionEngine: _sessionEngine, runtimes: _runtimes, ...extra } = options;
  const sessions = new SessionManager(() => (options.sessionEngine ?? fakeEngine)() as unknown as SessionEngine, { maxSessions: 2, idleMs: 60_000 });
  const logged: string[] = [];
  const app = createServerApp({
    config,
    builtinImages: ["isol8:python", "isol8:node", "isol8:bun", "isol8:deno", "isol8:bash"],
    apiKeys: options.keys ?? [KEY],
    version: "1.2.3",
    engine: engine as unknown as SessionEngine,
    sessions,
    slots: new Slots(config.maxConcurrent, config.server.maxQueue),
    cleanup: async () => ({ containers: 0, images: 0 }),
    log: (line) => logged.push(line),
    ...(options.now ? { now: options.now } : {}),
    ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.runtimes ? { runtimes: options.runtimes } : {}),
    ...extra,
  });
  return { app, engine, sessions, logged };
}

export type App = ReturnType<typeof makeApp>["app"];

/** One request to the app: a JSON body (a string is sent as is), the key (null: no header), the request context. */
export const call = (app: App, method: string, path: string, body?: unknown, key: string | null = KEY, context: Partial<RequestContext> = {}) =>
  app.fetch(
    new Request(`http://isol8.test${path}`, {
      method,
      headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), "content-type": "application/json" },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    }),
    context,
  );

