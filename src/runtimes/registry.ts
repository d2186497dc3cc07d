import { extname } from "node:path";
import { UsageError } from "../errors";
import { bash } from "./bash";
import { bun } from "./bun";
import { deno } from "./deno";
import { node } from "./node";
import { python } from "./python";
import type { RuntimeDefinition } from "./types";

/**
 * Every built-in runtime, in the order they are listed to users. THE list of runtimes:
 * names in schemas, config `dependencies`, image names and CLI help derive from it.
 */
export const BUILTIN_RUNTIMES = [python, node, bun, deno, bash] as const;

/** The name of a built-in runtime. */
export type RuntimeName = (typeof BUILTIN_RUNTIMES)[number]["name"];

/** A runtime definition with a built-in runtime's name. */
export type Runtime = RuntimeDefinition<RuntimeName>;

/** The built-in runtimes' names, in order. */
export const RUNTIME_NAMES: readonly [RuntimeName, ...RuntimeName[]] = [
  BUILTIN_RUNTIMES[0].name,
  ...BUILTIN_RUNTIMES.slice(1).map((runtime) => runtime.name),
];

export interface RuntimeRegistry {
  readonly all: readonly Runtime[];
  /** Every runtime, in order (the same as `all`). */
  list(): readonly Runtime[];
  get(name: string): Runtime;
  /** The runtime for a file name, by extension. */
  detect(fileName: string): Runtime;
  has(name: string): name is RuntimeName;
  /**
   * Accepts a runtime this registry already has (the same definition: nothing changes) and
   * refuses any other: requests name the built-in runtimes only, so a new one could never run.
   */
  register(runtime: RuntimeDefinition): void;
}

/** A lookup over runtime definitions; errors list the available runtimes. */
export function createRuntimeRegistry(runtimes: readonly Runtime[] = BUILTIN_RUNTIMES): RuntimeRegistry {
  const names = () => runtimes.map((r) => r.name).join(", ");
  return {
    all: runtimes,
    list: () => runtimes,
    register(runtime) {
      if (runtimes.some((r) => r === runtime)) return;
      throw new UsageError(
        `Cannot register runtime "${runtime.name}": isol8 runs its built-in runtimes only (${names()})`,
        "for other languages or tools, build an image FROM an isol8 image and pass it as image",
      );
    },
    has: (name): name is RuntimeName => runtimes.some((r) => r.name === name),
    get(name) {
      const runtime = runtimes.find((r) => r.name === name);
      if (!runtime) throw new UsageError(`Cannot use runtime "${name}": unknown runtime`, `available runtimes: ${names()}`);
      return runtime;
    },
    detect(fileName) {
      const ext = extname(fileName).toLowerCase();
      const runtime = runtimes.find((r) => r.extensions.includes(ext));
      if (!runtime) {
        throw new UsageError(
          `Cannot detect the runtime of "${fileName}": unknown extension "${ext || "(none)"}"`,
          `pass --runtime (available runtimes: ${names()})`,
        );
      }
      return runtime;
    },
  };
}
