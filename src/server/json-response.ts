// Responses written as the client reads them. A result with large output files (held as
// bytes by the engine) is serialised piece by piece (protocol/json-chunks.ts), so the server
// holds the file once, never its base64 text or the whole JSON document.
import type { StreamEvent } from "../protocol/execution";
import { jsonChunks } from "../protocol/json-chunks";
import { encodeStreamEventChunks, SSE_HEARTBEAT } from "../protocol/sse";
import { createGarbageMeter } from "../lib/collect-garbage";

/**
 * A byte stream pulled from text pieces: the next piece is produced only when the reader
 * wants more (highWaterMark 0), so nothing piles up ahead of a slow client. `onCancel` runs
 * when the reader goes away; the pieces' own cleanup (`finally`) runs then too. `sent` is
 * told every piece's size (by default it collects garbage every few MiB: lib/collect-garbage.ts).
 */
export function readableFrom(
  pieces: Iterator<string> | AsyncIterator<string>,
  onCancel: () => void = () => {},
  sent: (bytes: number) => void = createGarbageMeter(),
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await pieces.next();
        if (next.done) return controller.close();
        const bytes = encoder.encode(next.value);
        sent(bytes.length);
        controller.enqueue(bytes);
      },
      async cancel() {
        onCancel();
        await pieces.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A JSON response whose body is produced as it is sent; Uint8Array values are written as base64 strings. */
export function streamedJson(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(readableFrom(jsonChunks(body)), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export interface EventStreamHooks {
  /** The events ended (or failed): release what the run held. Runs once, however fast the client reads. */
  onEnd(): void;
  /** The event sent for a failure of the events (the last event of the stream). */
  errorEvent(error: unknown): StreamEvent;
  /** The client went away. */
  onCancel(): void;
  /** The stream is over for the client (all sent, or it went away). Runs once. */
  onClose?(): void;
  /** A heartbeat comment is sent after this long without an event, so idle streams (and proxies) stay open. */
  heartbeatMs?: number;
}

/**
 * An SSE stream of execution events. The events are taken as they come (so the run and its
 * slot end when the execution does, not when a slow client has read everything); each is
 * encoded only when the client reads, an exit event's output files as base64 piece by piece.
 */
export function eventStream(events: AsyncIterable<StreamEvent<string | Uint8Array>>, hooks: EventStreamHooks): ReadableStream<Uint8Array> {
  const ready: StreamEvent<string | Uint8Array>[] = [];
  let ended = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  void (async () => {
    try {
      for await (const event of events) {
        ready.push(event);
        notify();
      }
    } catch (error) {
      ready.push(hooks.errorEvent(error));
    } finally {
      ended = true;
      hooks.onEnd();
      notify();
    }
  })();
  const beat = hooks.heartbeatMs ?? Number.POSITIVE_INFINITY;
  async function* frames(): AsyncGenerator<string> {
    try {
      for (;;) {
        const event = ready.shift();
        if (event) yield* encodeStreamEventChunks(event);
        else if (ended) return;
        else {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const woke = await new Promise<boolean>((resolve) => {
            wake = () => resolve(true);
            if (Number.isFinite(beat)) timer = setTimeout(() => resolve(false), beat);
          });
          clearTimeout(timer);
          if (!woke) yield SSE_HEARTBEAT;
        }
      }
    } finally {
      hooks.onClose?.();
    }
  }
  return readableFrom(frames(), hooks.onCancel);
}
