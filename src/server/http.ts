import { jsonShapeProblem } from "./json-shape";

/** An HTTP-level failure with a status and a one-line, client-safe message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Ends the connection after the answer: for answers given before the body was read (the
 * client may have declared 100 MB that will never be read) and to clients that are refused.
 */
export const CLOSE = { connection: "close" } as const;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function errorResponse(error: HttpError): Response {
  return json(error.status, { error: error.message, ...error.extra }, error.headers);
}

const tooLarge = (maxBytes: number) => new HttpError(413, `request body over ${maxBytes} bytes`, {}, CLOSE);

/** Reads a body of at most maxBytes (413 beyond, before reading when its declared length says so). */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array(0);
  // One buffer of the declared size, filled in place; without a length, chunks joined once.
  const whole = Number.isSafeInteger(declared) && declared > 0 ? new Uint8Array(declared) : null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.length > maxBytes || (whole && size + value.length > whole.length)) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    if (whole) whole.set(value, size);
    else chunks.push(value);
    size += value.length;
  }
  if (whole) return whole.subarray(0, size);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * Reads a JSON body of at most maxBytes: 413 beyond, 400 when it is not JSON or when its shape
 * (values, nesting) is over the limits, checked on the bytes before anything is parsed.
 */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const bytes = await readBody(request, maxBytes);
  const shape = jsonShapeProblem(bytes);
  if (shape) throw new HttpError(400, `request body has ${shape}`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (!text.trim()) throw new HttpError(400, "request body is empty: expected JSON");
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
}

/** A percent-encoded path segment, decoded (400 when its encoding is malformed, e.g. `%ZZ`). */
export function decodePathSegment(segment: string, name: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `${name}: malformed percent-encoding in the URL path`);
  }
}
