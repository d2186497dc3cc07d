import { describe, expect, test } from "bun:test";
import { Slots } from "./slots";

describe("Slots", () => {
  test("up to max at once; the next waits until one is released, in FIFO order", async () => {
    const slots = new Slots(2);
    const a = await slots.acquire()!;
    const b = await slots.acquire()!;
    const order: string[] = [];
    const c = slots.acquire()!.then((release) => (order.push("c"), release));
    const d = slots.acquire()!.then((release) => (order.push("d"), release));
    expect(slots.inFlight).toBe(4);
    await Promise.resolve();
    expect(order).toEqual([]);
    a();
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    b();
    const releaseD = await d;
    expect(order).toEqual(["c", "d"]);
    releaseC();
    releaseD();
    expect(slots.inFlight).toBe(0);
  });

  test("a full queue answers null at once; releasing makes room again", async () => {
    const slots = new Slots(1, 1);
    const first = await slots.acquire()!;
    const queued = slots.acquire();
    expect(queued).not.toBeNull();
    expect(slots.acquire()).toBeNull();
    first();
    (await queued!)();
    expect(slots.inFlight).toBe(0);
    expect(slots.acquire()).not.toBeNull();
  });

  test("releasing twice gives back one slot", async () => {
    const slots = new Slots(1);
    const release = await slots.acquire()!;
    release();
    release();
    const again = await slots.acquire()!;
    expect(slots.acquire()).not.toBeNull(); // queued behind `again`, not a second holder
    expect(slots.inFlight).toBe(2);
    again();
  });

  test("a queue of 0 refuses anyone beyond max", () => {
    const slots = new Slots(1, 0);
    expect(slots.acquire()).not.toBeNull();
    expect(slots.acquire()).toBeNull();
  });

  test("a waiter whose signal aborts leaves the queue; the next one gets the slot", async () => {
    const slots = new Slots(1, 1);
    const held = await slots.acquire()!;
    const abort = new AbortController();
    const leaving = slots.acquire(abort.signal)!;
    expect(slots.acquire()).toBeNull(); // the queue (1) is full
    abort.abort(new Error("deadline"));
    await expect(leaving).rejects.toThrow("deadline");
    const next = slots.acquire()!; // room again
    held();
    (await next)();
    expect(slots.inFlight).toBe(0);
  });
});
