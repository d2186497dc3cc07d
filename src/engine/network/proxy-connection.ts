/**
 * One client connection through the proxy: read and judge one request, then either answer
 * it (400/403/431/502/504 with a one-line reason), tunnel a CONNECT, or forward one plain
 * HTTP request and its response. Exactly one request per connection (`Connection: close`
 * both ways); bytes after the request body are dropped.
 */
import { connect, type Socket } from "node:net";
import { createBodyFramer } from "./body-framing";
import type { Decision } from "./host-policy";
import { endToEndHeaders, findHeadEnd, parseHead, proxyResponse, serializeHead } from "./http-head";
import type { ConnectionOutcome } from "./network-log";
import { type HttpRequest, isRequestFailure, parseProxyRequest, type ProxyRequest, type RequestSummary, upstreamRequestHead } from "./proxy-request";
import { inspectTunnelStart, type TunnelTarget } from "./tunnel-start";

export interface ProxyLimits {
  /** Largest request (and response) head, in bytes. */
  maxHeaderBytes: number;
  /** Time allowed for the whole request head to arrive. */
  headerTimeoutMs: number;
  /** Inactivity allowed on either side once the request is read. */
  idleTimeoutMs: number;
  /** Time allowed for each upstream connection attempt. */
  connectTimeoutMs: number;
}

export interface ConnectionHooks {
  decide(host: string, port: number): Promise<Decision>;
  /** Bytes moved just now: toward the sandbox (in), toward the upstream (out). */
  countBytes(bytesIn: number, bytesOut: number): void;
  /** Called once per understood request, before the client sees the end of the answer. */
  record(outcome: ConnectionOutcome): void;
  /** Called once, when both sockets are gone. */
  closed(): void;
}

const ESTABLISHED = Buffer.from("HTTP/1.1 200 Connection Established\r\n\r\n", "latin1");
/** Reads a tunnel's first bytes may take to show what they are (real clients need one to three). */
const MAX_TUNNEL_START_READS = 128;

export class ProxyConnection {
  private head: Buffer = Buffer.alloc(0);
  private headTimer: ReturnType<typeof setTimeout> | null;
  private upstream: Socket | null = null;
  private summary: RequestSummary | null = null;
  private startedAt = new Date();
  private startedMs = 0;
  private action: "ALLOW" | "BLOCK" = "BLOCK";
  private reason: string | undefined;
  private status: number | null = null;
  private bytesIn = 0;
  private bytesOut = 0;
  /** Something (an answer, a response head, the tunnel's 200) went to the client. */
  private answered = false;
  private recorded = false;
  private finished = false;
  /** The proxy's own listeners on the client after the head (body feed, tunnel relay). */
  private clientData: ((chunk: Buffer) => void) | null = null;
  private clientEnd: (() => void) | null = null;
  private upstreamFull = false;
  private clientFull = false;

  constructor(
    private readonly client: Socket,
    private readonly limits: ProxyLimits,
    private readonly hooks: ConnectionHooks,
  ) {
    client.on("error", () => this.finish());
    client.on("close", () => this.finish());
    client.on("timeout", () => this.onTimeout());
    client.on("data", this.onHeadData);
    // A client that stops sending before its request head is complete will never send one:
    // free its connection slot now instead of at the head timeout.
    client.once("end", this.onEndBeforeHead);
    client.setTimeout(limits.idleTimeoutMs);
    this.headTimer = setTimeout(() => this.answer(408, "request head not received in time"), limits.headerTimeoutMs);
    this.headTimer.unref?.();
  }

  /** Ends the connection now (execution over, listener closed); records what happened so far. */
  finish(reason?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (reason && this.reason === undefined) this.reason = reason;
    this.clearHeadTimer();
    this.record();
    this.client.destroy();
    this.upstream?.destroy();
    this.hooks.closed();
  }

  private readonly onEndBeforeHead = (): void => this.finish("client closed before sending a request");

  private readonly onHeadData = (chunk: Buffer): void => {
    const searched = this.head.length;
    this.head = Buffer.concat([this.head, chunk]);
    const end = findHeadEnd(this.head, searched - 3);
    if (end === -1 ? this.head.length > this.limits.maxHeaderBytes : end > this.limits.maxHeaderBytes) {
      this.answer(431, "request head too large");
      return;
    }
    if (end === -1) return;
    this.clearHeadTimer();
    this.client.off("data", this.onHeadData);
    this.client.off("end", this.onEndBeforeHead);
    this.client.pause();
    const rest = this.head.subarray(end);
    const parsed = parseHead(this.head.subarray(0, end).toString("latin1"));
    this.head = Buffer.alloc(0);
    if ("error" in parsed) return this.answer(400, parsed.error);
    const request = parseProxyRequest(parsed);
    this.startedAt = new Date();
    this.startedMs = performance.now();
    if (isRequestFailure(request)) {
      this.summary = request.request ?? null;
      return this.answer(request.status, request.reason);
    }
    this.summary = { method: request.method, host: request.host, port: request.port, path: request.path };
    void this.start(request, rest);
  };

  private async start(request: ProxyRequest, rest: Buffer): Promise<void> {
    let decision: Decision;
    try {
      decision = await this.hooks.decide(request.host, request.port);
    } catch {
      decision = { allowed: false, reason: "internal error in the network filter", status: 502 };
    }
    if (this.finished) return;
    if (!decision.allowed) {
      this.action = decision.status === 403 ? "BLOCK" : "ALLOW";
      return this.answer(decision.status, decision.reason);
    }
    this.action = "ALLOW";
    const upstream = await this.connectFirst(decision.addresses, decision.port);
    if (this.finished) return;
    if (!upstream) return this.answer(502, `cannot connect to "${request.host}:${request.port}"`);
    upstream.setTimeout(this.limits.idleTimeoutMs);
    upstream.on("timeout", () => this.onTimeout());
    if (request.kind === "connect") this.tunnel(upstream, { host: decision.host, port: decision.port }, rest);
    else this.forward(upstream, request, rest);
  }

  /** Connects to the checked addresses in order (never by name: no second lookup). */
  private async connectFirst(addresses: readonly string[], port: number): Promise<Socket | null> {
    for (const address of addresses) {
      const socket = await new Promise<Socket | null>((resolve) => {
        const attempt = connect({ host: address, port, allowHalfOpen: true });
        this.upstream = attempt; // so finish() can abort it
        const timedOut = () => {
          attempt.destroy();
          resolve(null);
        };
        attempt.on("error", () => resolve(null)); // stays: errors after connect end in "close"
        attempt.setTimeout(this.limits.connectTimeoutMs);
        attempt.once("timeout", timedOut);
        attempt.once("connect", () => {
          attempt.setTimeout(0);
          attempt.off("timeout", timedOut);
          resolve(attempt);
        });
      });
      if (socket || this.finished) return socket;
    }
    return null;
  }

  /**
   * Answers the CONNECT, then holds the client's first bytes (the upstream hears nothing and
   * is not read) until they show what the tunnel carries: a TLS ClientHello naming the
   * target, or a plain HTTP request for it (see tunnel-start.ts). Anything else, or nothing
   * within the head time limit, closes the tunnel and is logged as BLOCK.
   */
  private tunnel(upstream: Socket, target: TunnelTarget, rest: Buffer): void {
    this.status = 200;
    this.answered = true;
    this.client.write(ESTABLISHED);
    upstream.pause();
    let held = rest;
    this.headTimer = setTimeout(() => this.block("no TLS ClientHello or HTTP request received in time"), this.limits.headerTimeoutMs);
    this.headTimer.unref?.();
    const upstreamGone = () => this.finish("upstream closed the tunnel");
    upstream.once("close", upstreamGone);
    const judge = (): void => {
      const start = inspectTunnelStart(held, target, this.limits.maxHeaderBytes);
      if (start.kind === "pending") return;
      this.clearHeadTimer();
      upstream.off("close", upstreamGone);
      this.unlistenClient();
      if (start.kind === "refused") return this.block(start.reason, start.reply);
      upstream.resume();
      if (start.kind === "tls") return this.relay(upstream, held);
      this.client.pause(); // forward() reads the body itself, and nothing after it
      this.forward(upstream, start.request, start.rest);
    };
    let reads = 0;
    this.listenClient(
      (chunk) => {
        held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
        // Each read re-judges everything held: a client dribbling bytes must not buy unbounded work.
        if (++reads > MAX_TUNNEL_START_READS) return this.block(`the tunnel's first bytes came in more than ${MAX_TUNNEL_START_READS} pieces`);
        judge();
      },
      () => this.block("client closed the tunnel before sending a TLS ClientHello or HTTP request"),
    );
    this.client.resume();
    if (held.length) judge();
  }

  /** Relays a judged tunnel byte for byte, starting with the bytes held while judging it. */
  private relay(upstream: Socket, held: Buffer): void {
    if (held.length) this.toUpstream(upstream, held);
    this.listenClient(
      (chunk) => this.toUpstream(upstream, chunk),
      () => upstream.end(),
    );
    upstream.on("data", (chunk: Buffer) => this.toClient(upstream, chunk));
    // Half-close passes through; the entry is recorded here only when both directions are done.
    upstream.on("end", () => (this.client.readableEnded ? this.endClient() : this.client.end()));
    upstream.on("close", () => {
      this.unlistenClient(); // nothing more can reach the upstream
      this.endClient();
    });
  }

  /**
   * Refuses what a tunnel carries: logged as BLOCK; with `reply`, the client (which speaks
   * HTTP) gets the proxy's answer inside the tunnel first; otherwise the tunnel is cut.
   */
  private block(reason: string, reply?: number): void {
    if (this.finished) return;
    this.action = "BLOCK";
    this.reason = reason;
    if (reply === undefined) return this.finish(reason);
    this.status = reply;
    this.upstream?.destroy();
    this.record();
    this.unlistenClient();
    this.client.end(proxyResponse(reply, reason));
    this.client.resume();
  }

  private forward(upstream: Socket, request: HttpRequest, rest: Buffer): void {
    const framer = createBodyFramer(request.body);
    const feed = (chunk: Buffer): void => {
      const result = framer.push(chunk);
      if ("error" in result) return this.answer(400, result.error);
      if (result.body.length) this.toUpstream(upstream, result.body);
      if (result.done) {
        this.unlistenClient();
        this.client.pause(); // whatever follows the body is never forwarded
      }
    };
    this.toUpstream(upstream, upstreamRequestHead(request));
    if (!framer.done) this.listenClient(feed, () => this.finish("request body cut short"));
    if (rest.length) feed(rest);
    if (!framer.done && !this.finished) this.client.resume();

    let head: Buffer = Buffer.alloc(0);
    let headDone = false;
    upstream.on("data", (chunk: Buffer) => {
      if (headDone) return this.toClient(upstream, chunk);
      this.count(chunk.length, 0);
      head = Buffer.concat([head, chunk]);
      for (;;) {
        const end = findHeadEnd(head);
        if (end === -1 || end > this.limits.maxHeaderBytes) {
          if (head.length > this.limits.maxHeaderBytes) this.answer(502, "upstream response head too large");
          return;
        }
        const parsed = parseHead(head.subarray(0, end).toString("latin1"));
        const code = "error" in parsed ? null : /^HTTP\/1\.[01] ([1-9][0-9]{2})(?: |$)/.exec(parsed.startLine)?.[1];
        if ("error" in parsed || !code) return this.answer(502, "malformed upstream response");
        const rest = head.subarray(end);
        head = Buffer.alloc(0);
        this.answered = true;
        const status = Number(code);
        if (status < 200 && status !== 101) {
          this.client.write(serializeHead(parsed.startLine, endToEndHeaders(parsed.headers))); // 100 Continue and friends
          head = rest;
          continue;
        }
        this.status = status;
        headDone = true;
        this.client.write(serializeHead(parsed.startLine, [...endToEndHeaders(parsed.headers), ["Connection", "close"]]));
        if (rest.length) this.client.write(rest);
        return;
      }
    });
    upstream.on("end", () => (headDone ? this.endClient() : this.answer(502, "upstream closed without a response")));
    upstream.on("close", (hadError: boolean) => {
      if (!headDone) this.answer(502, "upstream connection failed");
      else if (hadError) this.finish("upstream connection failed"); // a cut response is cut for the client too
      else this.endClient();
    });
  }

  /** Writes toward the upstream; while its buffer is full, the client is not read. */
  private toUpstream(upstream: Socket, chunk: Buffer): void {
    this.count(0, chunk.length);
    if (upstream.write(chunk) || this.upstreamFull) return;
    this.upstreamFull = true;
    this.client.pause();
    upstream.once("drain", () => {
      this.upstreamFull = false;
      if (this.clientData) this.client.resume(); // only while still relaying: a finished body stays unread
    });
  }

  /** Writes toward the client; while its buffer is full, the upstream is not read. */
  private toClient(upstream: Socket, chunk: Buffer): void {
    this.count(chunk.length, 0);
    if (this.client.write(chunk) || this.clientFull) return;
    this.clientFull = true;
    upstream.pause();
    this.client.once("drain", () => {
      this.clientFull = false;
      upstream.resume();
    });
  }

  private count(bytesIn: number, bytesOut: number): void {
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
    this.hooks.countBytes(bytesIn, bytesOut);
  }

  /** The upstream is done: record, then let the client read to the end and close. */
  private endClient(): void {
    if (this.finished || this.client.writableEnded) return;
    this.record();
    this.unlistenClient();
    this.client.end();
    this.client.resume(); // discard anything more; the client's FIN then closes the socket
  }

  /**
   * The proxy's own answer, when nothing has been sent yet; otherwise the connection is cut.
   * Once the client's side is ended (answered or done), later failures change nothing.
   */
  private answer(status: number, reason: string): void {
    if (this.finished || this.client.writableEnded) return;
    if (this.answered) return this.finish(reason);
    this.clearHeadTimer();
    this.answered = true;
    this.status = status;
    this.reason = reason;
    this.upstream?.destroy();
    this.record();
    this.client.off("data", this.onHeadData);
    this.unlistenClient();
    this.client.end(proxyResponse(status, reason));
    this.client.resume();
  }

  private onTimeout(): void {
    if (this.answered) this.finish("idle timeout");
    else if (this.summary) this.answer(504, "upstream did not answer in time");
    else this.answer(408, "request head not received in time");
  }

  private listenClient(data: (chunk: Buffer) => void, end: () => void): void {
    this.clientData = data;
    this.clientEnd = end;
    this.client.on("data", data);
    this.client.on("end", end);
  }

  private unlistenClient(): void {
    if (this.clientData) this.client.off("data", this.clientData);
    if (this.clientEnd) this.client.off("end", this.clientEnd);
    this.clientData = this.clientEnd = null;
  }

  private record(): void {
    if (this.recorded || !this.summary) return;
    this.recorded = true;
    const { action, reason, status, bytesIn, bytesOut } = this;
    const durationMs = performance.now() - this.startedMs;
    this.hooks.record({ ...this.summary, startedAt: this.startedAt, action, reason, status, durationMs, bytesIn, bytesOut });
  }

  private clearHeadTimer(): void {
    if (this.headTimer) clearTimeout(this.headTimer);
    this.headTimer = null;
  }
}
