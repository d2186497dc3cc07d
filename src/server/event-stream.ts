// An execution's event stream as an HTTP answer: the feed's kept events after `afterId`, then
// its new ones as they come, with a heartbeat comment after `heartbeatMs` without one (keeps
// proxies from closing a silent stream, and finds clients that left). Each frame is encoded
// when the client reads (an exit event's output files as base64, a slice at a time).
import { readableFrom } from "./json-response";
import type { EventFeed } from "./sse-buffer";

export interface EventStreamOptions {
  heartbeatMs: number;
  /** Called once when the answer ends (finished, or the client left). */
  done(): void;
}

/** The SSE answer reading `feed` after event `afterId`; null when an event after it is no longer kept. */
export function eventStreamResponse(feed: EventFeed, afterId: number, options: EventStreamOptions): Response | null {
  const reading = feed.read(afterId, options.heartbeatMs);
  if (!reading) return null;
  let over = false;
  const finish = () => {
    if (over) return;
    over = true;
    options.done();
  };
  async function* frames(): AsyncGenerator<string> {
    try {
      yield* reading!.frames;
    } finally {
      finish();
    }
  }
  const leave = () => {
    reading.detach(); // the pending pull ends at once
    finish();
  };
  return new Response(readableFrom(frames(), leave), {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
      "x-stream-id": feed.id,
    },
  });
}
