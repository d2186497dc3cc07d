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
  /** Removals this provider makes itself, in flight: stop() waits for them. */
  const removing = new Set<Promise<void>>();
  const remove = (sandbox: Sandbox): Promise<void> => {
    const removal = destroy(sandbox);
    removing.add(removal);
    void removal.finally(() => removing.delete(removal)).catch(() => {});
    return removal;
  };
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
      else await remove(sandbox);
    },
    // Waits for every removal it makes (a frozen or broken container's, the live ones'), never
    // for Docker's own (AutoRemove): a one-shot CLI exits at once after a clean run, and never
    // before the removal of a container that could not remove itself was done.
    async stop() {
      const all = [...live];
      live.clear();
      await Promise.allSettled([...removing, ...all.map(remove)]);
    },
  };
}
