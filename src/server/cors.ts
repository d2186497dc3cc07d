// CORS: off unless `server.corsOrigins` lists the origin a request comes from (e.g. where a
// playground is hosted apart from the server). The key still travels in Authorization: CORS
// only lets that origin's pages read the answers.

/** Headers a cross-origin page may send and read. */
const ALLOW_HEADERS = "authorization, content-type, last-event-id, x-request-id";
const EXPOSE_HEADERS = "x-request-id, x-stream-id, retry-after";
const PREFLIGHT_MAX_AGE_SECONDS = "600";

/** Headers that let `origin` read an answer, or null when it is not allowed (pure). */
export function corsHeaders(origin: string | null, allowed: readonly string[]): Record<string, string> | null {
  if (origin === null || !allowed.includes(origin)) return null;
  return { "access-control-allow-origin": origin, "access-control-expose-headers": EXPOSE_HEADERS, vary: "origin" };
}

/** Is this a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method)? */
export function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("origin") && request.headers.has("access-control-request-method");
}

/** The answer to an allowed origin's preflight for a path served with `methods`. */
export function preflightResponse(cors: Record<string, string>, methods: readonly string[]): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...cors,
      "access-control-allow-methods": methods.join(", "),
      "access-control-allow-headers": ALLOW_HEADERS,
      "access-control-max-age": PREFLIGHT_MAX_AGE_SECONDS,
    },
  });
}
