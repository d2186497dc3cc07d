import { spawn } from "node:child_process";
import { Isol8Error } from "../../errors";

/** A post-log script still running after this long is killed (and the failure logged). */
export const POST_LOG_SCRIPT_TIMEOUT_MS = 60_000;

export interface PostLogScript {
  /** Runs the script with the file's path as its only argument, in the background. */
  run(path: string): void;
  /** Resolves when no run is in progress or pending. */
  idle(): Promise<void>;
}

/**
 * `audit.postLogScript`: an executable started (without a shell) after audit writes, never
 * awaited by executions. At most one instance runs at a time: writes made while it runs are
 * covered by one more run after it ends, so a burst of executions cannot fork a burst of
 * scripts. Failures go to `onError` and are never fatal.
 */
export function createPostLogScript(script: string, onError: (error: Isol8Error) => void): PostLogScript {
  let running: Promise<void> | null = null;
  let pending: string | null = null;

  const once = (path: string) =>
    new Promise<void>((resolve) => {
      let settled = false;
      const fail = (state: string) => onError(new Isol8Error(`Cannot run audit.postLogScript "${script}": ${state}`, "it must be an executable file; it receives the log file's path as its only argument"));
      let stderr = "";
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn(script, [path], { stdio: ["ignore", "ignore", "pipe"], shell: false });
      } catch (error) {
        fail((error as Error).message);
        resolve();
        return;
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), POST_LOG_SCRIPT_TIMEOUT_MS);
      timer.unref();
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString("utf8")).slice(-500);
      });
      child.on("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        fail(error.code === "ENOENT" ? "file not found" : error.code === "EACCES" ? "permission denied (not executable?)" : error.message);
        resolve();
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        const last = stderr.trim().split("\n").pop();
        if (signal) fail(`killed by ${signal}${signal === "SIGKILL" ? ` (still running after ${POST_LOG_SCRIPT_TIMEOUT_MS} ms?)` : ""}`);
        else if (code !== 0) fail(`exited with ${code}${last ? `: ${last}` : ""}`);
        resolve();
      });
    });

  const drain = async (path: string) => {
    let next: string | null = path;
    while (next !== null) {
      pending = null;
      await once(next);
      next = pending;
    }
    running = null;
  };

  return {
    run(path) {
      if (running) pending = path;
      else running = drain(path);
    },
    async idle() {
      while (running) await running;
    },
  };
}
