import { describe, expect, test } from "bun:test";
import { type SessionEngine, SessionManager } from "./sessions";

function manager(idleMs = 1000) {
  const stopped: string[] = [];
  let n = 0;
  const sessions = new SessionManager(
    () => {
      const id = `engine-${n++}`;
      return { stop: async () => void stopped.push(id) } as unknown as SessionEngine;
    },
    { maxSessions: 10, idleMs },
  );
  return { sessions, stopped };
}

describe("SessionManager", () => {
  test("prunes idle sessions but never one in use", async () => {
    const { sessions, stopped } = manager(1000);
    const busy = sessions.getOrCreate("busy")!;
    sessions.getOrCreate("idle");
    let finish!: () => void;
    const work = sessions.use(busy, () => new Promise<void>((resolve) => (finish = resolve)));
    const pruned = await sessions.prune({ now: Date.now() + 5000 });
    expect(pruned).toEqual(["idle"]);
    expect(sessions.get("busy")).toBeDefined();
    expect(stopped).toEqual(["engine-1"]);
    finish();
    await work;
    expect(await sessions.prune({ now: Date.now() + 5000 })).toEqual(["busy"]);
  });

  test("recently used sessions are kept", async () => {
    const { sessions } = manager(60_000);
    sessions.getOrCreate("a");
    expect(await sessions.prune()).toEqual([]);
  });

  test("maxSessions: getOrCreate answers null past the limit", () => {
    const sessions = new SessionManager(() => ({ stop: async () => {} }) as unknown as SessionEngine, { maxSessions: 1, idleMs: 1 });
    expect(sessions.getOrCreate("a")).not.toBeNull();
    expect(sessions.getOrCreate("b")).toBeNull();
    expect(sessions.getOrCreate("a")).not.toBeNull();
  });
});
