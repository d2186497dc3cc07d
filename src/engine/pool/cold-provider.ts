import type { SandboxSpec } from "../container-options";
import type { PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";
import type { SandboxProvider } from "./provider";

/** A fresh container per execution, destroyed afterwards (one-shot CLI runs, poolSize 0). */
export function createColdProvider(
  create: (spec: SandboxSpec, key: string) => Promise<Sandbox>,
  destroy: (sandbox: Sandbox) => Promise<void>,
): SandboxProvider {
  const live = new Set<Sandbox>();
  return {
    async acquire(prepared: PreparedExecution) {
      const sandbox = await create(prepared.spec, prepared.key);
      live.add(sandbox);
      return sandbox;
    },
    async release(sandbox, reusable) {
      live.delete(sandbox);
      // A clean run's container removes itself (AutoRemove); any other is removed here.
      if (reusable && sandbox.autoRemove) await sandbox.letGo();
      else await destroy(sandbox);
    },
    async stop() {
      const all = [...live];
      live.clear();
      await Promise.allSettled(all.map(destroy));
    },
  };
}
