import { spawn } from "node:child_process";
import { constants } from "node:os";
import { Isol8Error } from "../errors";

/** Signals passed on to the child. (A terminal's Ctrl-C reaches both processes; isol8 treats a repeat as one.) */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR2"];

/** How a child ended: its exit code, or the signal that ended it. */
export type ChildOutcome = { code: number; signal?: undefined } | { code?: undefined; signal: NodeJS.Signals };

/**
 * Runs `file` with `args`, stdio inherited, passing on the signals this process receives
 * while it runs, and resolves with how it ended. Rejects only when it cannot start.
 */
export function runForwarding(file: string, args: readonly string[]): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: "inherit" });
    const forward = (signal: NodeJS.Signals) => void child.kill(signal);
    const stopForwarding = () => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    child.once("error", (error) => {
      stopForwarding();
      const code = (error as NodeJS.ErrnoException).code ?? error.message;
      reject(new Isol8Error(`Cannot run "${file}": ${code}`));
    });
    child.once("exit", (code, signal) => {
      stopForwarding();
      resolve(signal ? { signal } : { code: code ?? 1 });
    });
  });
}

/** The shell's exit status for an outcome: the code, or 128 + the signal number. */
export function exitStatus(outcome: ChildOutcome): number {
  return outcome.signal ? 128 + (constants.signals[outcome.signal] ?? 0) : outcome.code;
}
