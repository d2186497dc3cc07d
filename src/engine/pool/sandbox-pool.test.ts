// The pool's stop against stand-in containers: nothing it holds, cleans or lets go of may
// outlive it (a real suite found a container whose background cleaning ended after stop).
import { describe, expect, test } from "bun:test";
import type { SandboxSpec } from "../container-options";
import type { PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";
import { SandboxPool } from "./sandbox-pool";

/** A stand-in container whose cleaning ends when the test says so; `die()` breaks its channel. */
function fakeSandbox(id: string, clean: () => Promise<{ ok: boolean; detail?: string }>): Sandbox & { die(): void } {
  const listeners: (() => void)[] = [];
  const channel = {
    broken: false,
    clean,
    whenBroken: (listener: () => void) => void listeners.push(listener),
  };
  return {
    id,
    key: "k",
    uses: 0,
    createdAt: Date.now(),
    isDisposed: false,
    channel,
    die() {
      channel.broken = true;
      for (const listener of listeners.splice(0)) listener();
    },
  } as unknown as Sandbox & { die(): void };
}

function later<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const prepared = { spec: {} as SandboxSpec, key: "k" } as PreparedExecution;

function poolWith(cleaning: Promise<{ ok: boolean }>, clean = 1) {
  const destroyed: string[] = [];
  const created: (Sandbox & { die(): void })[] = [];
  let n = 0;
  const pool = new SandboxPool({
    strategy: "fast",
    clean,
    dirty: 1,
    maxAgeMs: 60_000,
    create: async () => {
      const sandbox = fakeSandbox(`c${n++}`, () => cleaning);
      created.push(sandbox);
      return sandbox;
    },
    destroy: async (sandbox) => {
      await Bun.sleep(1); // a removal takes a while
      destroyed.push(sandbox.id);
    },
  });
  return { pool, destroyed, created };
}

describe("SandboxPool: nothing outlives its stop, nothing dead waits in it", () => {
  test("waits for a container being cleaned and destroys it; it is never handed out again", async () => {
    const cleaning = later<{ ok: boolean }>();
    const { pool, destroyed } = poolWith(cleaning.promise);
    const sandbox = await pool.acquire(prepared);
    await pool.release(sandbox, true);
    await Bun.sleep(5); // the background cleaner has taken it (it is in no list now)
    const stopped = pool.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await Bun.sleep(5);
    expect(done).toBe(false); // still cleaning: stop waits
    cleaning.resolve({ ok: true });
    await stopped;
    expect(destroyed).toEqual([sandbox.id]);
  });

  test("waits for a container a release lets go of (pool full) just before it", async () => {
    const { pool, destroyed } = poolWith(Promise.resolve({ ok: true }), 0);
    const a = await pool.acquire(prepared);
    const b = await pool.acquire(prepared);
    const c = await pool.acquire(prepared);
    void pool.release(a, true); // dirty (1 slot)
    void pool.release(b, true); // pool full: destroyed in the background
    void pool.release(c, true);
    await pool.stop();
    expect(destroyed.sort()).toEqual([a.id, b.id, c.id].sort());
  });

  test("still works: without a stop, a cleaned container is handed out again", async () => {
    const { pool, destroyed } = poolWith(Promise.resolve({ ok: true }));
    const sandbox = await pool.acquire(prepared);
    await pool.release(sandbox, true);
    await pool.idle();
    expect(await pool.acquire(prepared)).toBe(sandbox);
    expect(destroyed).toEqual([]);
    await pool.stop();
  });

  test("a ready container that dies while idle is removed and replaced at once", async () => {
    const { pool, destroyed, created } = poolWith(Promise.resolve({ ok: true }));
    await pool.prewarm({} as SandboxSpec, "k");
    const [first] = created;
    first!.die();
    await pool.idle();
    await Bun.sleep(5);
    expect(destroyed).toEqual([first!.id]);
    expect(created).toHaveLength(2);
    // Still works: the next caller gets the replacement, not the dead one.
    expect((await pool.acquire(prepared)).id).toBe(created[1]!.id);
    await pool.stop();
  });
});

describe("SandboxPool: used containers are cleaned side by side, up to `cleaners` at once", () => {
  async function countingPool(cleaners: number, size: number) {
    let running = 0;
    let most = 0;
    const gates: ((value: { ok: boolean }) => void)[] = [];
    let n = 0;
    const pool = new SandboxPool({
      strategy: "fast",
      clean: size,
      dirty: size,
      maxAgeMs: 60_000,
      cleaners,
      create: async () =>
        fakeSandbox(`c${n++}`, () => {
          running++;
          most = Math.max(most, running);
          return new Promise<{ ok: boolean }>((resolve) => gates.push((value) => { running--; resolve(value); }));
        }),
      destroy: async () => {},
    });
    await pool.prewarm({} as SandboxSpec, "k");
    return { pool, gates, stats: () => ({ running, most }) };
  }

  test.each([
    [1, 6, 1],
    [4, 6, 4],
    [4, 2, 2],
    [8, 6, 6],
  ])("cleaners %i, %i used containers: %i cleanings at the same time; every one comes back ready", async (cleaners, used, expected) => {
    const { pool, gates, stats } = await countingPool(cleaners, used);
    const taken = await Promise.all(Array.from({ length: used }, () => pool.acquire(prepared)));
    for (const sandbox of taken) void pool.release(sandbox, true);
    await Bun.sleep(5);
    expect(stats().running).toBe(expected);
    // Each cleaning that ends lets the next start, until none is left.
    while (gates.length) {
      gates.shift()!({ ok: true });
      await Bun.sleep(1);
    }
    await pool.idle();
    expect(stats().most).toBe(expected);
    expect(pool.stats().ready).toBe(used);
    await pool.stop();
  });

  test("a caller waiting for a container gets the first one whose cleaning ends", async () => {
    const { pool, gates } = await countingPool(4, 8);
    const taken = await Promise.all(Array.from({ length: 8 }, () => pool.acquire(prepared)));
    for (const sandbox of taken.slice(0, 3)) void pool.release(sandbox, true);
    await Bun.sleep(5);
    const waiting = pool.acquire(prepared);
    gates[1]!({ ok: true });
    expect((await waiting).id).toBe(taken[1]!.id);
    for (const gate of gates.splice(0)) gate({ ok: true });
    for (const sandbox of taken.slice(3)) void pool.release(sandbox, true);
    while (gates.length) for (const gate of gates.splice(0)) gate({ ok: true });
    await pool.stop();
  });
});

describe("SandboxPool: reuseProblem", () => {
  function poolAsking(problem: string | null, strategy: "fast" | "secure") {
    const destroyed: string[] = [];
    const asked: string[] = [];
    let n = 0;
    const pool = new SandboxPool({
      strategy,
      clean: 1,
      dirty: 1,
      maxAgeMs: 60_000,
      create: async () => fakeSandbox(`c${n++}`, async () => ({ ok: true })),
      destroy: async (sandbox) => void destroyed.push(sandbox.id),
      reuseProblem: (sandbox) => (asked.push(sandbox.id), problem),
    });
    return { pool, destroyed, asked };
  }

  test.each(["fast", "secure"] as const)("%s: a cleaned container with a problem is destroyed, and the next caller gets another", async (strategy) => {
    const { pool, destroyed, asked } = poolAsking("gVisor still holds 600 host tasks", strategy);
    const first = await pool.acquire(prepared);
    first.uses = 1;
    await pool.release(first, true);
    await pool.idle();
    const second = await pool.acquire(prepared);
    expect(second.id).not.toBe(first.id);
    expect(asked).toEqual([first.id]);
    expect(destroyed).toEqual([first.id]);
    await pool.stop();
  });

  test.each(["fast", "secure"] as const)("still works (%s): without a problem the cleaned container serves again", async (strategy) => {
    const { pool, destroyed, asked } = poolAsking(null, strategy);
    const first = await pool.acquire(prepared);
    first.uses = 1;
    await pool.release(first, true);
    await pool.idle();
    const second = await pool.acquire(prepared);
    expect(second.id).toBe(first.id);
    expect(asked).toEqual([first.id]);
    expect(destroyed).toEqual([]);
    await pool.stop();
  });
});
