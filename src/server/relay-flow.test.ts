import { describe, expect, test } from "bun:test";
import { createFlow } from "./relay-flow";

/** A target that takes `room` bytes until given more; records what it took and whether it was ended. */
function fakes(room: number) {
  const taken: number[] = [];
  const events: string[] = [];
  const target = {
    room,
    closed: false,
    write(data: Uint8Array) {
      if (target.closed) return -1;
      const n = Math.min(target.room, data.length);
      target.room -= n;
      taken.push(...data.subarray(0, n));
      return n;
    },
    end: () => events.push("end"),
  };
  const source = { pause: () => events.push("pause"), resume: () => events.push("resume") };
  return { flow: createFlow(source, target), target, taken, events };
}

const bytes = (from: number, length: number) => Uint8Array.from({ length }, (_, i) => (from + i) % 256);

describe("createFlow", () => {
  test("a target with room: written through, nothing held, the source never paused", () => {
    const { flow, taken, events } = fakes(1000);
    flow.send(bytes(0, 10));
    flow.send(bytes(10, 10));
    expect(taken).toEqual([...bytes(0, 20)]);
    expect(flow.heldBytes).toBe(0);
    expect(events).toEqual([]);
  });

  test("a short write holds the rest and pauses the source; more sent meanwhile is held behind it, in order", () => {
    const { flow, target, taken, events } = fakes(4);
    flow.send(bytes(0, 10));
    flow.send(bytes(10, 5));
    expect(taken).toEqual([...bytes(0, 4)]);
    expect(flow.heldBytes).toBe(11);
    expect(events).toEqual(["pause", "pause"]);
    target.room = 3;
    flow.drain();
    expect(flow.heldBytes).toBe(8);
    expect(events.at(-1)).toBe("pause"); // not resumed while bytes are held
    target.room = 1000;
    flow.drain();
    expect(taken).toEqual([...bytes(0, 15)]);
    expect(flow.heldBytes).toBe(0);
    expect(events.at(-1)).toBe("resume");
  });

  test("the held bytes are a copy: the caller may reuse its chunk", () => {
    const { flow, target, taken } = fakes(2);
    const chunk = bytes(0, 6);
    flow.send(chunk);
    chunk.fill(0xff);
    target.room = 100;
    flow.drain();
    expect(taken).toEqual([...bytes(0, 6)]);
  });

  test("end: the target is ended at once when nothing is held, else after the last held byte; never twice", () => {
    const now = fakes(100);
    now.flow.end();
    now.flow.end();
    expect(now.events).toEqual(["end"]);
    expect(now.flow.finished).toBe(true);

    const later = fakes(2);
    later.flow.send(bytes(0, 5));
    later.flow.end();
    expect(later.events).toEqual(["pause"]);
    later.target.room = 100;
    later.flow.drain();
    expect(later.events).toEqual(["pause", "end"]); // ended, not resumed
    later.flow.send(bytes(5, 5)); // after the end: dropped
    expect(later.taken).toEqual([...bytes(0, 5)]);
  });

  test("a closed target (-1): nothing is held, nothing paused", () => {
    const { flow, target, events } = fakes(10);
    target.closed = true;
    flow.send(bytes(0, 50));
    expect(flow.heldBytes).toBe(0);
    expect(events).toEqual([]);
  });
});
