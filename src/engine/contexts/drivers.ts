import { CONTEXT_DRIVERS } from "../../assets";
import type { ContextRuntime } from "../../protocol/context";

/** How a runtime's context driver is started and interrupted. */
export interface ContextDriver {
  argv: string[];
  /** Environment entries added to the image's own. */
  env: string[];
  /**
   * `signal`: SIGINT to the driver's process group (python: KeyboardInterrupt; bash: the foreground job).
   * `frame`: an 'i' frame on the cell pipe, read by a JS driver's own reader (a busy loop cannot run a signal handler).
   */
  interrupt: "signal" | "frame";
}

/** Limits the driver enforces itself (the supervisor enforces them again on what it receives). */
export interface DriverLimits {
  maxResultBytes: number;
}

/** The driver of each context runtime: the interpreter with the embedded driver as its program text. */
export function contextDriver(runtime: ContextRuntime, limits: DriverLimits): ContextDriver {
  const env = [`ISOL8_CONTEXT_MAX_RESULT_BYTES=${limits.maxResultBytes}`, `ISOL8_CONTEXT_RUNTIME=${runtime}`];
  switch (runtime) {
    case "python":
      return { argv: ["python3", "-c", CONTEXT_DRIVERS.python], env: [...env, "MPLBACKEND=Agg"], interrupt: "signal" };
    case "node":
      return { argv: ["node", "--no-warnings", "-e", CONTEXT_DRIVERS.js], env, interrupt: "frame" };
    case "bun":
      return { argv: ["bun", "-e", CONTEXT_DRIVERS.js], env, interrupt: "frame" };
    case "deno":
      return { argv: ["deno", "eval", "--quiet", CONTEXT_DRIVERS.js], env, interrupt: "frame" };
    case "bash":
      return { argv: ["bash", "--norc", "--noprofile", "-c", CONTEXT_DRIVERS.bash], env, interrupt: "signal" };
  }
}
