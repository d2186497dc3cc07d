import { buildCellAuditRecord, type CellAuditInput } from "./cell-record";
import { resolve } from "node:path";
import type { Isol8Config } from "../../config/schema";
import { Isol8Error } from "../../errors";
import type { PreparedExecution } from "../prepare";
import type { ExecutionResult } from "../../protocol/execution";
import type { RunHandlers } from "../execution/handlers";
import { type AuditContext, type AuditRecord, buildAuditRecord, serializeRecord } from "./audit-record";
import { pruneAuditFiles } from "./audit-retention";
import { type AuditSink, createFileSink, createStreamSink } from "./audit-sink";
import { createPostLogScript } from "./post-log-script";

const DAY_MS = 24 * 60 * 60 * 1000;

/** How an engine's audit log reaches the outside world (all optional). */
export interface AuditIo {
  /** Destination `stdout`: where the lines go (default: the process's stdout; the CLI passes stderr). */
  write?: (line: string) => void;
  /** Audit failures (unwritable sink, failing postLogScript, retention). Default: one line on stderr. */
  onError?: (error: Isol8Error) => void;
  /** Clock for file names and retention (tests). */
  now?: () => Date;
}

export interface AuditLogOptions extends AuditIo {
  config: Isol8Config["audit"];
  /** Looks an image up (called once per image reference, for its id). */
  inspectImage: (ref: string) => Promise<{ id: string } | null>;
}

export interface AuditLog {
  /**
   * Runs one execution through `execute` and writes its record whatever the outcome; the
   * result (or isol8's error) is passed on unchanged, even when the record cannot be written.
   * With `audit.required`, refuses (throws Isol8Error) before running when the log is unwritable.
   */
  run<R extends ExecutionResult<string | Uint8Array>>(
    prepared: PreparedExecution,
    handlers: RunHandlers,
    context: AuditContext,
    execute: (handlers: RunHandlers) => Promise<R>,
  ): Promise<R>;
  /** Writes the record of one context cell (never throws; failures go to onError). */
  cell(input: Omit<CellAuditInput, "includeCode" | "includeOutput">): Promise<void>;
  /** Resolves when background work (retention, post-log scripts) is done. */
  idle(): Promise<void>;
  /** Stops the daily retention timer. */
  close(): void;
}

function reportToStderr(error: Isol8Error): void {
  process.stderr.write(`isol8: ${error.message}${error.hint ? ` (hint: ${error.hint})` : ""}\n`);
}

/** The audit log of one engine (`audit.*`): sink, retention, post-log script. */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { config } = options;
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? reportToStderr;
  const toFile = config.destination !== "stdout";
  // Resolved once: a later chdir of the process does not move the log.
  const logDir = resolve(config.logDir);
  const sink: AuditSink = toFile
    ? createFileSink({ dir: logDir, now })
    : createStreamSink(options.write ?? ((line) => void process.stdout.write(line)));
  const script = toFile && config.postLogScript ? createPostLogScript(config.postLogScript, onError) : null;

  const imageIds = new Map<string, Promise<string | null>>();
  const imageId = (ref: string) => {
    let id = imageIds.get(ref);
    if (!id) {
      id = options.inspectImage(ref).then((image) => image?.id ?? null, () => null);
      imageIds.set(ref, id);
      // A missing image may be built later: look again next time.
      void id.then((found) => found ?? imageIds.delete(ref));
    }
    return id;
  };

  const prune = () =>
    pruneAuditFiles({ dir: logDir, retentionDays: config.retentionDays, now: now(), keep: sink.current() }).catch((error) =>
      onError(new Isol8Error(`Cannot apply audit.retentionDays in "${logDir}": ${(error as Error).message}`)),
    );
  let timer: ReturnType<typeof setInterval> | null = null;
  let pruning: Promise<unknown> = Promise.resolve();
  if (toFile) {
    pruning = prune();
    timer = setInterval(() => void (pruning = prune()), DAY_MS);
    timer.unref();
  }

  const write = async (build: () => AuditRecord) => {
    try {
      const path = await sink.write(serializeRecord(build()));
      if (path && script) script.run(path);
    } catch (error) {
      onError(error instanceof Isol8Error ? error : new Isol8Error(`Cannot write the audit log: ${(error as Error).message}`));
    }
  };

  return {
    async run<R extends ExecutionResult<string | Uint8Array>>(
      prepared: PreparedExecution,
      handlers: RunHandlers,
      context: AuditContext,
      execute: (handlers: RunHandlers) => Promise<R>,
    ): Promise<R> {
      if (config.required) {
        try {
          await sink.check();
        } catch (error) {
          const cause = error as Isol8Error;
          throw new Isol8Error(`Cannot run the execution: no audit record can be written (audit.required is true): ${cause.message}`, cause.hint);
        }
      }
      const startedAt = now();
      const started = performance.now();
      // A streamed run's result holds no output: keep what was passed on, for includeOutput.
      const seen = config.includeOutput && !handlers.collect ? { stdout: [] as string[], stderr: [] as string[] } : null;
      const teed: RunHandlers = seen
        ? {
            ...handlers,
            onStdout: (text, bytes) => {
              seen.stdout.push(text);
              handlers.onStdout?.(text, bytes);
            },
            onStderr: (text, bytes) => {
              seen.stderr.push(text);
              handlers.onStderr?.(text, bytes);
            },
          }
        : handlers;
      let result: R | undefined;
      let failure: { error: unknown } | undefined;
      try {
        result = await execute(teed);
      } catch (error) {
        failure = { error };
      }
      const id = await imageId(prepared.spec.image);
      await write(() =>
        buildAuditRecord({
          prepared,
          context,
          imageId: id,
          startedAt,
          elapsedMs: performance.now() - started,
          ...(result ? { result } : { error: failure?.error }),
          ...(seen ? { output: { stdout: seen.stdout.join(""), stderr: seen.stderr.join("") } } : {}),
          includeCode: config.includeCode,
          includeOutput: config.includeOutput,
        }),
      );
      if (failure) throw failure.error;
      return result!;
    },
    async cell(input) {
      await write(() =>
        buildCellAuditRecord({ ...input, includeCode: config.includeCode, includeOutput: config.includeOutput }) as unknown as AuditRecord,
      );
    },
    async idle() {
      await pruning;
      await script?.idle();
    },
    close() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
