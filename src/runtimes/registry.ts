import { extname } from "node:path";
import { UsageError } from "../errors";
import { bash } from "./bash";
import { bun } from "./bun";
import { deno } from "./deno";
import { node } from "./node";
import { python } from "./python";
import type { RuntimeDefinition, RuntimeName } from "./types";

/** Every built-in runtime, in the order they are listed to users. */
export const BUILTIN_RUNTIMES: readonly RuntimeDefinition[] = [python, node, bun, deno, bash];

export interface RuntimeRegistry {
  readonly all: readonly RuntimeDefinition[];
  get(name: string): RuntimeDefinition;
  /** The runtime for a file name, by extension. */
  detect(fileName: string): RuntimeDefinition;
  has(name: string): name is RuntimeName;
}

/** A lookup over runtime definitions; errors list the available runtimes. */
export function createRuntimeRegistry(runtimes: readonly RuntimeDefinition[] = BUILTIN_RUNTIMES): RuntimeRegistry {
  const names = () => runtimes.map((r) => r.name).join(", ");
  return {
    all: runtimes,
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
