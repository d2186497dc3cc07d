import { describe, expect, test } from "bun:test";
import { ConflictError, DockerUnavailableError, FileError, ImageError, type Isol8Error, RequestError, SandboxError, SessionLostError } from "../errors";
import { errorOfIsol8 } from "../protocol/errors";
import { RemoteError, RemoteIsol8 } from "./remote";
import { defaultConfig } from "../config/schema";
import { fakeEngine, KEY, makeApp } from "../../test/server-fixtures";

const answering = (status: number, body: unknown) =>
  new RemoteIsol8({
    host: "http://isol8.test",
    apiKey: "k",
    sessionId: "s",
    fetch: (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch,
  });

const failure = (status: number, body: unknown): Promise<Isol8Error> =>
  answering(status, body)
    .getFile("/sandbox/x")
    .then(() => { throw new Error("expected a failure"); }, (e: unknown) => e as Isol8Error);

describe("RemoteIsol8: errors as the server states them", () => {
  test.each<[number, unknown, new (...args: never[]) => Error, Record<string, unknown>]>([
    [404, { error: { code: "file-refused", message: 'Cannot read "/sandbox/x": no such file', reason: "not-found" } }, FileError, { reason: "not-found" }],
    [409, { error: { code: "file-refused", message: "a symlink is at the path", reason: "symlink" } }, FileError, { reason: "symlink" }],
    [400, { error: { code: "invalid-request", message: "path: at most 4096 characters", field: "path" } }, RequestError, { field: "path" }],
    [410, { error: { code: "session-lost", message: "gone" } }, SessionLostError, {}],
    [409, { error: { code: "conflict", message: "bound to python" } }, ConflictError, {}],
    [503, { error: { code: "sandbox-failed", message: "sandbox terminated", retryable: true } }, SandboxError, {}],
    [503, { error: { code: "docker-unavailable", message: "container runtime unavailable", retryable: true } }, DockerUnavailableError, {}],
    [503, { error: { code: "image-unavailable", message: "no image", retryable: true } }, ImageError, {}],
    [404, { error: { code: "not-found", message: 'session "s" not found' } }, RemoteError, { code: "not-found", status: 404 }],
    [403, { error: { code: "policy-denied", message: "no", field: "network" } }, RemoteError, { code: "policy-denied" }],
    [502, "<html>bad gateway</html>", RemoteError, { status: 502, code: undefined }],
    [404, { error: { code: "file-refused", message: "x", reason: "toString" } }, RemoteError, { status: 404, code: undefined }],
  ])("HTTP %d %p", async (status, body, type, fields) => {
    const error = await failure(status, body);
    expect(error).toBeInstanceOf(type);
    for (const [name, value] of Object.entries(fields)) expect((error as unknown as Record<string, unknown>)[name]).toBe(value);
    expect(error.message).toContain(`HTTP ${status}`);
  });

  test("a failure without a library class keeps the server's whole error body (a policy refusal's field)", async () => {
    const error = (await failure(403, { error: { code: "policy-denied", message: 'option "network" is not allowed', field: "network" } })) as RemoteError;
    expect(error.body).toEqual({ code: "policy-denied", message: 'option "network" is not allowed', field: "network" });
    expect(((await failure(502, "<html>bad gateway</html>")) as RemoteError).body).toBeUndefined();
  });

  test("an error crosses the wire with its class and details (server mapping → client mapping)", async () => {
    for (const original of [
      new RequestError("Invalid request: request.code: expected string", "request.code"),
      new FileError("permission-denied", 'Cannot read "/sandbox/x": permission denied'),
      new SessionLostError("Cannot finish: its files are gone"),
      new ConflictError("Cannot run bash: bound to python"),
    ]) {
      const { status, detail } = errorOfIsol8(original);
      const error = await failure(status, { error: detail });
      expect(error.constructor).toBe(original.constructor);
      expect((error as RequestError).field).toBe((original as RequestError).field);
      expect((error as FileError).reason).toBe((original as FileError).reason);
    }
  });
});

describe("RemoteIsol8: a dropped event stream", () => {
  test("is resumed with Last-Event-ID: every event arrives exactly once, in order", async () => {
    const engine = fakeEngine();
    engine.executeStream = () =>
      (async function* () {
        for (const data of ["a", "b", "c"]) yield { type: "stdout" as const, data };
        yield { type: "exit" as const, data: { exitCode: 0 } as never };
      })();
    const { app } = makeApp(defaultConfig(), engine);
    const asked: string[] = [];
    /** The first stream breaks after its first chunk (one event), as a dropped connection does. */
    const flaky = (async (input: string, init: RequestInit) => {
      const request = new Request(input, init);
      asked.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get("last-event-id") ?? "-"}`);
      const response = await app.fetch(request);
      if (asked.length > 1 || !response.body) return response;
      const reader = response.body.getReader();
      let passed = false;
      const broken = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (!passed) {
            passed = true;
            controller.enqueue((await reader.read()).value!);
            return;
          }
          controller.error(new TypeError("network connection lost"));
          await reader.cancel();
        },
      });
      return new Response(broken, { status: response.status, headers: response.headers });
    }) as unknown as typeof fetch;
    const remote = new RemoteIsol8({ host: "http://isol8.test", apiKey: KEY, fetch: flaky });
    const events: string[] = [];
    for await (const event of remote.executeStream({ code: "1" })) events.push(event.type === "stdout" ? event.data : event.type);
    expect(events).toEqual(["a", "b", "c", "exit"]);
    expect(asked[0]).toBe("POST /execute/stream -");
    expect(asked[1]).toMatch(/^GET \/execute\/stream\/[0-9a-f.i-]+ 1$/);
  });
});

describe("RemoteIsol8: leaving a stream early", () => {
  test("asks the server to stop the program (DELETE), so it does not wait for the resume window", async () => {
    let aborted = false;
    const engine = fakeEngine();
    engine.executeStream = (_request, context?: { signal?: AbortSignal }) =>
      (async function* () {
        context?.signal?.addEventListener("abort", () => (aborted = true));
        yield { type: "stdout" as const, data: "first" };
        await new Promise<void>((resolve) => context?.signal?.addEventListener("abort", () => resolve()));
      })();
    const { app } = makeApp(defaultConfig(), engine);
    const asked: string[] = [];
    const fetchApp = (async (input: string, init: RequestInit) => {
      const request = new Request(input, init);
      asked.push(`${request.method} ${new URL(request.url).pathname.replace(/(i-[0-9a-f]+\.)?[0-9a-f-]{36}/, "{id}")}`);
      return app.fetch(request);
    }) as unknown as typeof fetch;
    const remote = new RemoteIsol8({ host: "http://isol8.test", apiKey: KEY, fetch: fetchApp });
    for await (const event of remote.executeStream({ code: "1" })) {
      expect(event).toEqual({ type: "stdout", data: "first" });
      break;
    }
    expect(asked).toEqual(["POST /execute/stream", "DELETE /execute/stream/{id}"]);
    expect(aborted).toBe(true);
  });
});
