import { describe, expect, test } from "bun:test";
import { FileError, RequestError } from "../errors";
import { RemoteError, RemoteIsol8 } from "./remote";

const answering = (status: number, body: unknown) =>
  new RemoteIsol8({
    host: "http://isol8.test",
    apiKey: "k",
    sessionId: "s",
    fetch: (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch,
  });

describe("RemoteIsol8: errors as the server states them", () => {
  test.each<[number, unknown, new (...args: never[]) => Error, string | null]>([
    [404, { error: 'Cannot read "/sandbox/x": no such file', reason: "not-found" }, FileError, "not-found"],
    [409, { error: "a symlink is at the path", reason: "symlink" }, FileError, "symlink"],
    [413, { error: "too large", reason: "too-large" }, FileError, "too-large"],
    [400, { error: "path: at most 4096 characters" }, RequestError, null],
    [404, { error: 'session "s" not found' }, RemoteError, null],
    [503, { error: "sandbox terminated", retryable: true }, RemoteError, null],
    [404, { error: "x", reason: "toString" }, RemoteError, null],
  ])("HTTP %d %p", async (status, body, type, reason) => {
    const error = await answering(status, body).getFile("/sandbox/x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    if (reason) expect((error as FileError).reason as string).toBe(reason);
    expect((error as Error).message).toContain(`HTTP ${status}`);
  });
});
