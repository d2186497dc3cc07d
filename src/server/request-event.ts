// What the HTTP app tells its observer about each answered request (access log, metrics).

export interface RequestEvent {
  requestId: string;
  method: string;
  /** The route's template (`/session/{id}`), or null when no route matched. */
  route: string | null;
  /** The path asked for (no query: it may hold file paths). */
  path: string;
  status: number;
  /** Until the answer's head (a stream goes on after it). */
  durationMs: number;
  /** The key's principal, or null before or without authentication. */
  principal: string | null;
  /** The client's address (the peer of its connection), or null in-process. */
  client: string | null;
}

/** An incoming X-Request-Id is kept when it is 1-128 characters of A-Z a-z 0-9 and `._:-` (safe in logs and headers). */
export function acceptedRequestId(header: string | null): string | null {
  return header !== null && /^[A-Za-z0-9._:-]{1,128}$/.test(header) ? header : null;
}
