import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { createGarbageMeter } from "../../lib/collect-garbage";
import { SandboxError } from "../../errors";
import {
  createDockerDemuxer,
  createFrameParser,
  DIRECT_FRAME_BYTES,
  encodeExec,
  encodeFrame,
  encodeRead,
  encodeWrite,
  type ExecSpec,
  type ExitReport,
  type FileRefusal,
  type Frame,
  parseExitReport,
  parseFileRefusal,
  parseReadyReport,
} from "./protocol";
import type { DirectChannelListener } from "./direct-channel";
import { fileOperationError } from "./file-errors";
import { parseSandboxListing, type SandboxListing } from "./sandbox-listing";
import {
  type CellLimits,
  type CellReport,
  type ContextOpenSpec,
  type DriverFrame,
  encodeCell,
  encodeContextClose,
  encodeContextOpen,
  type OpenReply,
  parseCellReport,
  parseDriverFrame,
  parseOpenReply,
} from "./context-frames";

export interface CellHandlers extends ExecHandlers {
  /** A result or error frame the driver sent (untrusted: the caller validates it). */
  onDriverFrame(frame: DriverFrame): void;
}

export interface ExecHandlers {
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
}

/** A read file, or why it was refused (`error` is the refusal's detail). */
export type ReadResult = { ok: true; content: Buffer } | { ok: false; refusal: FileRefusal; error: string };

/** Extra time the supervisor gets past the program's timeout before it counts as hung. */
const SUPERVISOR_GRACE_MS = 10_000;
const READY_TIMEOUT_MS = 30_000;

/**
 * The engine's end of one container's control channel: requests go one at a time,
 * in order; a broken stream fails whatever is pending and every later request.
 */
export class SupervisorChannel {
  private handler: ((frame: Frame) => void) | null = null;
  private failure: Error | null = null;
  private onFailure: ((error: Error) => void) | null = null;
  private readonly brokenListeners: ((error: Error) => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  /** The uid the supervisor runs programs as (from its ready frame; null when it did not say). */
  sandboxUid: number | null = null;
  /** Where frames travel: the supervisor's direct connection, or the attach stream (see supervisor.c, "direct channel"). */
  private direct: Socket | null = null;

  private constructor(
    private readonly stream: Duplex,
    private readonly log: (line: string) => void,
  ) {
    // The attach stream carries the supervisor's log lines (stderr), and its frames (stdout)
    // while it has no direct channel.
    const parse = this.frameParser();
    const demux = createDockerDemuxer(
      (chunk) => this.direct === null && parse(chunk),
      (chunk) => {
        for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) log(`supervisor: ${line}`);
      },
    );
    stream.on("data", demux);
    this.failWith(stream);
  }

  /** Frames parsed from one byte stream, for the request waiting on them. */
  private frameParser(): (chunk: Buffer) => void {
    // Large frames (files read back) are copied once as they arrive; collect the chunks left behind.
    return createFrameParser((frame) => this.handler?.(frame), { copied: createGarbageMeter() });
  }

  /** The channel breaks when `stream` does: the container stopped, or the supervisor died. */
  private failWith(stream: Duplex): void {
    stream.on("error", (error) => this.fail(new SandboxError(`Cannot talk to the sandbox: ${error.message}`)));
    stream.on("close", () => this.fail(new SandboxError("Cannot talk to the sandbox: the container stopped")));
    stream.on("end", () => this.fail(new SandboxError("Cannot talk to the sandbox: the container stopped")));
  }

  /**
   * Wraps an attached stream and waits for the supervisor's ready frame. With `direct`, the
   * supervisor's connection to it carries every frame once made (it connects before its ready
   * frame); the listener is closed once the channel is open or has failed.
   */
  static async open(stream: Duplex, log: (line: string) => void = () => {}, direct?: DirectChannelListener): Promise<SupervisorChannel> {
    const channel = new SupervisorChannel(stream, log);
    void direct?.connection.then((socket) => socket && channel.takeDirect(socket));
    try {
      await channel.request<void>(null, READY_TIMEOUT_MS, (frame, done) => {
        if (frame.type !== "R") return;
        channel.sandboxUid = parseReadyReport(frame.payload).uid;
        done.resolve();
      });
    } finally {
      direct?.close();
    }
    return channel;
  }

  private takeDirect(socket: Socket): void {
    if (this.failure) return void socket.destroy();
    this.direct = socket;
    socket.on("data", this.frameParser());
    this.failWith(socket);
  }

  /** How frames travel: "direct" (the supervisor's own connection) or "attach" (Docker's attach relay). */
  get transport(): "direct" | "attach" {
    return this.direct ? "direct" : "attach";
  }

  get broken(): boolean {
    return this.failure !== null;
  }

  /**
   * Writes a regular file (parents created) as the sandbox user. A refusal for what is at the
   * path throws FileError (a symlink is never written through; a FIFO, socket or directory is
   * never opened for writing); only a failing sandbox throws SandboxError.
   */
  async writeFile(relPath: string, content: Uint8Array, mode = 0o644): Promise<void> {
    const reply = await this.request<string>(encodeWrite(relPath, content, mode), 60_000, (frame, done) => {
      if (frame.type === "w") done.resolve(frame.payload.toString("utf8"));
    });
    if (reply !== "ok") throw fileOperationError("write", relPath, parseFileRefusal(reply));
  }

  /** Reads a regular file (symlinks inside /sandbox followed); anything else is a refusal, never a wait. */
  readFile(relPath: string, maxBytes: number): Promise<ReadResult> {
    return this.request<ReadResult>(encodeRead(relPath, maxBytes), 60_000, (frame, done) => {
      if (frame.type !== "g") return;
      // A large payload is the frame's own buffer (see createFrameParser): a view, not a second copy.
      if (frame.payload[0] === 1) return done.resolve({ ok: true, content: frame.payload.length >= DIRECT_FRAME_BYTES ? frame.payload.subarray(1) : Buffer.from(frame.payload.subarray(1)) });
      const refusal = parseFileRefusal(frame.payload.subarray(1).toString("utf8"));
      done.resolve({ ok: false, refusal, error: refusal.detail });
    });
  }

  /** Removes every process of the sandbox user and empties /sandbox, /tmp, /dev/shm, IPC; then verifies. */
  async clean(): Promise<{ ok: boolean; detail: string }> {
    const reply = await this.request<string>(encodeFrame("C"), 30_000, (frame, done) => {
      if (frame.type === "c") done.resolve(frame.payload.toString("utf8"));
    });
    return { ok: reply === "ok", detail: reply };
  }

  async ping(): Promise<void> {
    await this.request<void>(encodeFrame("P"), 10_000, (frame, done) => {
      if (frame.type === "p") done.resolve();
    });
  }

  /**
   * Runs one program. Output reaches the handlers as it is produced; the promise
   * resolves with the supervisor's exit report. `signal` aborts the run (the
   * supervisor kills every process of it and still reports).
   */
  execute(spec: ExecSpec, handlers: ExecHandlers, signal?: AbortSignal): Promise<ExitReport> {
    return this.abortable(signal, (onSent) =>
      this.request<ExitReport>(
        encodeExec(spec),
        spec.timeoutMs + SUPERVISOR_GRACE_MS,
        (frame, done) => {
          if (frame.type === "1") handlers.onStdout(frame.payload);
          else if (frame.type === "2") handlers.onStderr(frame.payload);
          else if (frame.type === "E") done.resolve(parseExitReport(frame.payload));
        },
        onSent,
      ),
    );
  }

  /**
   * A request that `signal` aborts: once the request is sent, an abort (also one that came
   * before) sends 'K' (the supervisor kills what runs and still reports); the listener goes
   * when the request ends.
   */
  private abortable<T>(signal: AbortSignal | undefined, send: (onSent: () => void) => Promise<T>): Promise<T> {
    if (!signal) return send(() => {});
    const onAbort = () => this.write(encodeFrame("K"));
    let listening = false;
    const result = send(() => {
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      listening = true;
    });
    return result.finally(() => listening && signal.removeEventListener("abort", onAbort));
  }

  /** Starts a context's driver (see context-frames.ts); resolves when it is ready or could not start. */
  openContext(spec: ContextOpenSpec): Promise<OpenReply> {
    return this.request<OpenReply>(encodeContextOpen(spec), spec.startTimeoutMs + SUPERVISOR_GRACE_MS, (frame, done) => {
      if (frame.type === "o") done.resolve(parseOpenReply(frame.payload));
    });
  }

  /**
   * Runs one cell in a context. `signal` interrupts it (as its timeout does); the supervisor
   * reports how it ended. `hostDeadlineMs` bounds the whole call: past it the channel is broken.
   */
  runCell(slot: number, limits: CellLimits, code: string, handlers: CellHandlers, hostDeadlineMs: number, signal?: AbortSignal): Promise<CellReport> {
    return this.abortable(signal, (onSent) =>
      this.request<CellReport>(
        encodeCell(slot, limits, code),
        hostDeadlineMs,
        (frame, done) => {
          if (frame.type === "1") handlers.onStdout(frame.payload);
          else if (frame.type === "2") handlers.onStderr(frame.payload);
          else if (frame.type === "V") {
            const driverFrame = parseDriverFrame(frame.payload);
            if (driverFrame) handlers.onDriverFrame(driverFrame);
          } else if (frame.type === "Z") done.resolve(parseCellReport(frame.payload));
        },
        onSent,
      ),
    );
  }

  /** Kills every process of a context and forgets it. */
  async closeContext(slot: number): Promise<void> {
    await this.request<string>(encodeContextClose(slot), 30_000, (frame, done) => {
      if (frame.type === "q") done.resolve(frame.payload.toString("utf8"));
    });
  }

  /** Regular files under /sandbox (size, mtime), as the sandbox user sees them (see supervisor.c, "listing"). */
  async listSandbox(): Promise<SandboxListing> {
    const text = await this.request<string>(encodeFrame("L"), 30_000, (frame, done) => {
      if (frame.type === "l") done.resolve(frame.payload.toString("utf8"));
    });
    return parseSandboxListing(text);
  }

  /** Asks the supervisor to keep the container running after this channel closes. */
  hold(): void {
    this.write(encodeFrame("H"));
  }

  /** Ends the channel; the container's supervisor exits when its input (stdin, or the direct channel) closes. */
  close(): void {
    this.fail(new SandboxError("Cannot talk to the sandbox: the channel was closed"));
    // Ended, not destroyed: what was written last (a hold frame) still reaches the supervisor.
    const direct = this.direct;
    direct?.end(() => direct.destroy());
    this.stream.destroy();
  }

  private write(data: Buffer): void {
    if (!this.failure) (this.direct ?? this.stream).write(data);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.onFailure?.(error);
    for (const listener of this.brokenListeners.splice(0)) listener(error);
  }

  /** Calls `listener` once when the channel breaks (at once if it is broken already): e.g. the container died while idle. */
  whenBroken(listener: (error: Error) => void): void {
    if (this.failure) listener(this.failure);
    else this.brokenListeners.push(listener);
  }

  private request<T>(
    payload: Buffer | null,
    timeoutMs: number,
    onFrame: (frame: Frame, done: { resolve: (value: T) => void }) => void,
    onSent?: () => void,
  ): Promise<T> {
    const run = () =>
      new Promise<T>((resolve, reject) => {
        if (this.failure) return reject(this.failure);
        const timer = setTimeout(() => {
          finish();
          const error = new SandboxError("Cannot talk to the sandbox: the supervisor did not answer in time");
          this.fail(error);
          reject(error);
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          this.handler = null;
          this.onFailure = null;
        };
        this.onFailure = (error) => {
          finish();
          reject(error);
        };
        this.handler = (frame) =>
          onFrame(frame, {
            resolve: (value) => {
              finish();
              resolve(value);
            },
          });
        if (payload) this.write(payload);
        onSent?.();
      });
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }
}
