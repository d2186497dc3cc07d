import { describe, expect, test } from "bun:test";
import { ConflictError, DockerUnavailableError, FileError, ImageError, type Isol8Error, RequestError, SandboxError, SessionLostError } from "../errors";
import { errorOfIsol8 } from "../protocol/errors";
import { RemoteError, RemoteIsol8 } from "./remote";

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
