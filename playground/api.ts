// The page's calls to the server it came from: the key goes in Authorization, nowhere else.
import type { StreamEvent } from "../src/protocol/execution";
import { parseSse } from "../src/protocol/sse";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function failure(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
  return new ApiError(response.status, `HTTP ${response.status}: ${body?.error?.message ?? response.statusText}`);
}

const headers = (key: string, json: boolean): Record<string, string> => ({
  authorization: `Bearer ${key}`,
  ...(json ? { "content-type": "application/json" } : {}),
});

export async function postJson<T>(key: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(path, { method: "POST", headers: headers(key, true), body: JSON.stringify(body) });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export async function getJson<T>(key: string, path: string): Promise<T> {
  const response = await fetch(path, { headers: headers(key, false) });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** Resumes after a dropped connection this many times at most. */
const MAX_RESUMES = 3;

/**
 * Runs a request as an event stream, calling `onEvent` for each event exactly once. A dropped
 * connection is resumed (Last-Event-ID) while the execution runs; `signal` stops the program.
 */
export async function streamExecution(key: string, body: unknown, signal: AbortSignal, onEvent: (event: StreamEvent) => void): Promise<void> {
  let response = await fetch("/execute/stream", { method: "POST", headers: headers(key, true), body: JSON.stringify(body), signal });
  if (!response.ok) throw await failure(response);
  const streamId = response.headers.get("x-stream-id");
  // Stop means stop: the server would otherwise keep the program running for a resume.
  if (streamId) signal.addEventListener("abort", () => void fetch(`/execute/stream/${encodeURIComponent(streamId)}`, { method: "DELETE", headers: headers(key, false) }), { once: true });
  let lastId = "0";
  for (let resumes = 0; ; resumes++) {
    try {
      for await (const message of parseSse(response.body!)) {
        if (message.id !== undefined) lastId = message.id;
        const event = JSON.parse(message.data) as StreamEvent;
        onEvent(event);
        if (event.type === "exit" || event.type === "error") return;
      }
      return;
    } catch (error) {
      if (signal.aborted || !streamId || resumes >= MAX_RESUMES) throw error;
    }
    response = await fetch(`/execute/stream/${encodeURIComponent(streamId)}`, { headers: { ...headers(key, false), "last-event-id": lastId }, signal });
    if (!response.ok) throw await failure(response);
  }
}

/** Bytes → base64 (in chunks: String.fromCharCode takes a bounded argument list). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
