import { describe, expect, test } from "bun:test";
import type { PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";
import { createColdProvider } from "./cold-provider";

/** A provider whose containers are fakes; every removal and let-go waits until the test ends it. */
function provider() {
  const events: string[] = [];
  const removals = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const lettingGo = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  let made = 0;
  const cold = createColdProvider(
    async () => {
      const id = `c${++made}`;
      return {
        id,
        autoRemove: true,
        letGo: () => {
          events.push(`let go ${id}`);
          const done = Promise.withResolvers<void>();
          lettingGo.set(id, done);
          return done.promise;
        },
      } as unknown as Sandbox;
    },
    (sandbox) => {
      events.push(`remove ${sandbox.id}`);
      const done = Promise.withResolvers<void>();
      removals.set(sandbox.id, done);
      return done.promise.then(() => void events.push(`removed ${sandbox.id}`));
    },
  );
  return { cold, events, removals, lettingGo };
}

const prepared = { spec: {}, key: "k" } as unknown as PreparedExecution;

describe("cold provider: what stop() waits for", () => {
  test("a removal it makes itself (a container that could not remove itself) is waited for", async () => {
    const { cold, events, removals } = provider();
    const sandbox = await cold.acquire(prepared);
    void cold.release(sandbox, false);
    let stopped = false;
    const stopping = cold.stop().then(() => (stopped = true));
    await Bun.sleep(5);
    expect(stopped).toBe(false);
    removals.get("c1")!.resolve();
    await stopping;
    expect(events).toEqual(["remove c1", "removed c1"]);
  });

  test("Docker's own removal of a clean run's container (AutoRemove) is not", async () => {
    const { cold, events } = provider();
    const sandbox = await cold.acquire(prepared);
    void cold.release(sandbox, true);
    await cold.stop();
    expect(events).toEqual(["let go c1"]);
  });

  test("a container still held is removed, and waited for", async () => {
    const { cold, events, removals } = provider();
    await cold.acquire(prepared);
    const stopping = cold.stop();
    await Bun.sleep(1);
    removals.get("c1")!.resolve();
    await stopping;
    expect(events).toEqual(["remove c1", "removed c1"]);
  });
});
