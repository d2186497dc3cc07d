// Server-Sent Events, one implementation for both ends: the server encodes, RemoteIsol8
// (and any other client of ours) parses. Parsing is eventsource-parser's (the spec's field
// rules, CRLF, multi-line data, comments); encoding is a few lines of ours.
import { createParser } from "eventsource-parser";
import type { CellEvent } from "./context";
import type { StreamEvent } from "./execution";
import { jsonChunks } from "./json-chunks";

export interface SseMessage {
  /** The event id (`id:`), for resuming with Last-Event-ID. */
  id?: string;
  /** The event name (`event:`); absent for the default `message`. */
  event?: string;
  data: string;
}

/** One SSE frame: `id:` and `event:` when given, one `data:` line per line of data, a blank line. */
export function encodeSse(message: SseMessage): string {
  const lines: string[] = [];
  if (message.id !== undefined) lines.push(`id: ${singleLine(message.id)}`);
  if (message.event !== undefined) lines.push(`event: ${singleLine(message.event)}`);
  for (const line of message.data.split(/\r\n|\r|\n/)) lines.push(`data: ${line}`);
  return `${lines.join("\n")}\n\n`;
}

/** A comment frame: keeps an idle connection (and the proxies on its way) open; clients ignore it. */
export const SSE_HEARTBEAT = ": heartbeat\n\n";

/** An execution event as an SSE frame (JSON in `data`). */
export function encodeStreamEvent(event: StreamEvent, id?: string): string {
  return encodeSse({ ...(id !== undefined ? { id } : {}), data: JSON.stringify(event) });
}

/**
 * The same frame in pieces, for events that hold output files as bytes (written as base64,
 * a slice at a time: see json-chunks.ts). JSON text has no raw line break, so the event is
 * one `data:` line, exactly as encodeStreamEvent writes it.
 */
export function* encodeStreamEventChunks(event: StreamEvent<string | Uint8Array>, id?: string): Generator<string> {
  // The frame's head rides with the JSON's first piece and its tail with the last (one piece
  // is held back to know which is last): a small event is one piece.
  let held = `${id !== undefined ? `id: ${singleLine(id)}\n` : ""}data: `;
  let first = true;
  for (const piece of jsonChunks(event)) {
    if (first) held += piece;
    else {
      yield held;
      held = piece;
    }
    first = false;
  }
  yield `${held}\n\n`;
}

/** A context cell's event as an SSE frame (JSON in `data`). */
export function encodeCellEvent(event: CellEvent): string {
  return encodeSse({ data: JSON.stringify(event) });
}

function singleLine(value: string): string {
  return value.replace(/[\r\n]/g, " ");
}

/** Parses an SSE byte stream into messages as they arrive (comments and heartbeats are skipped). */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const ready: SseMessage[] = [];
  const parser = createParser({
    onEvent: (message) =>
      ready.push({
        data: message.data,
        ...(message.id !== undefined ? { id: message.id } : {}),
        ...(message.event !== undefined ? { event: message.event } : {}),
      }),
  });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      while (ready.length) yield ready.shift()!;
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Parses an SSE stream of execution events (the data of each message is one JSON event). */
export async function* parseStreamEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  for await (const message of parseSse(body)) yield JSON.parse(message.data) as StreamEvent;
}

/** Parses an SSE stream of context cell events (the data of each message is one JSON event). */
export async function* parseCellEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<CellEvent> {
  for await (const message of parseSse(body)) yield JSON.parse(message.data) as CellEvent;
}
