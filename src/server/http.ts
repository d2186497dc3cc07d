import type { ErrorCode, ErrorDetail } from "../protocol/errors";
import type { QuotaName } from "../protocol/tenancy";
import { jsonShapeProblem } from "./json-shape";

/** The code of an HttpError that names none, by status. */
const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: "invalid-request",
  401: "unauthorized",
  403: "forbidden",
  404: "not-found",
  405: "method-not-allowed",
  413: "payload-too-large",
  415: "unsupported-media-type",
  429: "too-many-requests",
  503: "unavailable",
};

/** What an HttpError may add to its body besides the message. */
export interface HttpErrorDetail {
  /** Default: by status (400 invalid-request, 404 not-found, 503 unavailable, ...). */
  code?: ErrorCode;
  field?: string;
  retryable?: boolean;
  /** quota-exceeded: the quota reached. */
  quota?: QuotaName;
}

/** An HTTP-level failure with a status and a one-line, client-safe message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail: HttpErrorDetail = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The body's `error`: `{ code, message, field?, retryable? }`. */
  get body(): ErrorDetail {
    const { code = CODE_OF_STATUS[this.status] ?? "internal", ...rest } = this.detail;
    return { code, message: this.message, ...rest };
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

/** The one error body: `{ error: { code, message, field?, reason?, retryable? } }`. */
export function errorResponse(status: number, detail: ErrorDetail, headers: Record<string, string> = {}): Response {
  return json(status, { error: detail }, headers);
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

/** `application/json` or a `+json` type, parameters (charset) aside. */
export function isJsonMediaType(header: string | null): boolean {
  const type = header?.split(";")[0]?.trim().toLowerCase();
  return type === "application/json" || (type !== undefined && /^application\/[a-z0-9.+-]+\+json$/.test(type));
}

/**
 * Reads a JSON body (415 for another media type) of at most maxBytes: 413 beyond, 400 when it is not JSON or when its shape
 * (values, nesting) is over the limits, checked on the bytes before anything is parsed.
 */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  if (!isJsonMediaType(request.headers.get("content-type"))) {
    throw new HttpError(415, "request body must be JSON: send Content-Type: application/json", {}, { accept: "application/json" });
  }
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
