import { createAuthThrottle, type Peer } from "./auth-throttle";
import { CLOSE, HttpError } from "./http";
import type { Caller, KeyService } from "./key-service";

export interface AdmissionOptions {
  /** Who a key is: the bootstrap keys and the key store's (each key is a principal). */
  keys: Pick<KeyService, "authenticate">;
  /** Requests in progress beyond which new ones get 503 (server.maxRequestsInFlight). */
  maxRequestsInFlight: number;
  /** Wrong keys per address and window before 429 (server.authFailureLimit, server.authFailureWindowMs). */
  authFailureLimit: number;
  authFailureWindowMs: number;
  /** The server's idle timeout: a trusted connection unseen for longer has been closed. */
  idleTimeoutMs: number;
  now?: () => number;
  log: (line: string) => void;
}

export interface Admission {
  /**
   * The caller a request is admitted as; otherwise throws the HttpError to answer, every one
   * of which closes the connection (the body, perhaps 100 MB declared, is never read):
   * 503 over the in-flight cap, 429 from a throttled address, 401 without a key, 403 for a wrong
   * or revoked one.
   */
  admit(request: Request, peer: Peer | null, inFlight: number): Promise<Caller>;
  /** The request of this peer was answered: its connection stays trusted a while longer. */
  answered(peer: Peer | null): void;
}

/** Bun's socket timer moves in 4-second steps: a connection may outlive the idle timeout by two of them. */
const IDLE_TIMER_SLACK_MS = 8_000;

/** Who may use the API, in order: the in-flight cap, the failure throttle, then the key. */
export function createAdmission(options: AdmissionOptions): Admission {
  const throttle = createAuthThrottle({
    limit: options.authFailureLimit,
    windowMs: options.authFailureWindowMs,
    connectionTrustMs: options.idleTimeoutMs + IDLE_TIMER_SLACK_MS,
    log: options.log,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    async admit(request, peer, inFlight) {
      if (inFlight > options.maxRequestsInFlight) {
        throw new HttpError(503, "too many requests in progress", { retryable: true }, { ...CLOSE, "retry-after": "1" });
      }
      const wait = throttle.retryAfter(peer);
      if (wait !== null) {
        throw new HttpError(429, "too many wrong API keys from this address", {}, { ...CLOSE, "retry-after": String(wait) });
      }
      const verdict = await options.keys.authenticate(request.headers.get("authorization"));
      if ("caller" in verdict) {
        throttle.trust(peer);
        return verdict.caller;
      }
      if (verdict.status === 401) {
        throw new HttpError(401, "missing API key: send Authorization: Bearer <key>", {}, { ...CLOSE, "www-authenticate": "Bearer" });
      }
      throttle.failed(peer);
      throw new HttpError(403, "Invalid API key", {}, CLOSE);
    },
    answered: (peer) => throttle.trust(peer),
  };
}
