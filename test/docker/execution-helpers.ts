// Shared pieces of the execution-semantics tests (real Docker). Not a test file itself.
import type { DockerIsol8 } from "../../src/engine/engine";
import { createDockerClient, type DockerClient } from "../../src/engine/docker";
import type { ExecutionRequest } from "../../src/protocol/execution";
import type { ExecutionSummary, StreamEvent } from "../../src/protocol/execution";

/** The real Docker client, counting the containers an engine asks it to create. */
export function countingDocker(): { docker: DockerClient; created: () => number } {
  const real = createDockerClient();
  let created = 0;
  const docker = new Proxy(real, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === "createContainer") {
        return (...args: Parameters<DockerClient["createContainer"]>) => {
          created++;
          return target.createContainer(...args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { docker, created: () => created };
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the promise to reject, but it resolved");
}

export interface StreamedRun {
  events: StreamEvent[];
  stdoutChunks: string[];
  stderrChunks: string[];
  stdout: string;
  stderr: string;
  /** The exit event's summary; the test fails when the stream ended otherwise. */
  exit: ExecutionSummary;
}

/** Drains executeStream(), checking that exactly one exit event comes, and last. */
export async function streamRun(engine: DockerIsol8, request: ExecutionRequest): Promise<StreamedRun> {
  const events: StreamEvent[] = [];
  for await (const event of engine.executeStream(request)) events.push(event);
  const last = events.at(-1);
  if (last?.type !== "exit") throw new Error(`stream did not end with an exit event: ${JSON.stringify(last)}`);
  if (events.filter((e) => e.type === "exit" || e.type === "error").length !== 1) {
    throw new Error("stream carried more than one exit/error event");
  }
  const chunks = (type: "stdout" | "stderr") =>
    events.filter((e): e is { type: typeof type; data: string } => e.type === type).map((e) => e.data);
  const stdoutChunks = chunks("stdout");
  const stderrChunks = chunks("stderr");
  return {
    events,
    stdoutChunks,
    stderrChunks,
    stdout: stdoutChunks.join(""),
    stderr: stderrChunks.join(""),
    exit: last.data,
  };
}

/** Bytes of text as UTF-8. */
export const bytes = (text: string): number => Buffer.byteLength(text, "utf8");
