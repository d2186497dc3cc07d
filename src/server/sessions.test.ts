import { describe, expect, test } from "bun:test";
import { type SessionEngine, SessionManager } from "./sessions";

function manager(idleMs = 1000, maxSessions = 10) {
  const stopped: string[] = [];
  let n = 0;
  const sessions = new SessionManager(
    () => {
      const id = `engine-${n++}`;
      return { stop: async () => void stopped.push(id) } as unknown as SessionEngine;
    },
    { maxSessions, idleMs },
  );
  return { sessions, stopped };
}

describe("SessionManager", () => {
  test("prunes idle sessions but never one in use", async () => {
    const { sessions, stopped } = manager(1000);
    const busy = sessions.getOrCreate("a", "busy")!;
    sessions.getOrCreate("a", "idle");
    let finish!: () => void;
    const work = sessions.use(busy, () => new Promise<void>((resolve) => (finish = resolve)));
    const pruned = await sessions.prune({ now: Date.now() + 5000 });
    expect(pruned).toEqual(["idle"]);
    expect(sessions.get("a", "busy")).toBeDefined();
    expect(stopped).toEqual(["engine-1"]);
    finish();
    await work;
    expect(await sessions.prune({ now: Date.now() + 5000 })).toEqual(["busy"]);
  });

  test("recently used sessions are kept", async () => {
    const { sessions } = manager(60_000);
    sessions.getOrCreate("a", "s");
    expect(await sessions.prune()).toEqual([]);
  });

  test("maxSessions: getOrCreate answers null past the limit, counting every owner", () => {
    const { sessions } = manager(1, 2);
    expect(sessions.getOrCreate("a", "s")).not.toBeNull();
    expect(sessions.getOrCreate("b", "s")).not.toBeNull();
    expect(sessions.getOrCreate("b", "t")).toBeNull();
    expect(sessions.getOrCreate("a", "s")).not.toBeNull();
  });
});

describe("SessionManager: sessions belong to their owner", () => {
  test("one id, two owners: two sessions, two engines", () => {
    const { sessions } = manager();
    const a = sessions.getOrCreate("key:a", "s1")!;
    const b = sessions.getOrCreate("key:b", "s1")!;
    expect(a).not.toBe(b);
    expect(a.engine).not.toBe(b.engine);
    expect(sessions.get("key:a", "s1")).toBe(a);
    expect(sessions.get("key:b", "s1")).toBe(b);
  });

  test("get, list and delete see the owner's sessions only", async () => {
    const { sessions, stopped } = manager();
    sessions.getOrCreate("key:a", "mine");
    expect(sessions.get("key:b", "mine")).toBeUndefined();
    expect(sessions.list("key:b")).toEqual([]);
    expect(await sessions.delete("key:b", "mine")).toBe(false);
    expect(stopped).toEqual([]);
    expect(sessions.list("key:a").map((s) => s.id)).toEqual(["mine"]);
    expect(await sessions.delete("key:a", "mine")).toBe(true);
    expect(stopped).toEqual(["engine-0"]);
  });

  test("prune with an owner removes only that owner's idle sessions", async () => {
    const { sessions } = manager();
    sessions.getOrCreate("key:a", "x");
    sessions.getOrCreate("key:b", "y");
    expect(await sessions.prune({ all: true, owner: "key:b" })).toEqual(["y"]);
    expect(sessions.list().map((s) => `${s.owner}/${s.id}`)).toEqual(["key:a/x"]);
  });
});
