import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load";
import { ConfigError } from "../errors";
import { SandboxUids } from "./sandbox-uids";

/** A "random" source that returns the given values in turn (then 0). */
const sequence = (...values: number[]) => () => values.shift() ?? 0;

describe("SandboxUids", () => {
  test("picks inside the range", () => {
    const uids = new SandboxUids({ from: 1_000_000, to: 1_999_999 });
    for (let i = 0; i < 200; i++) {
      const uid = uids.take();
      expect(uid).toBeGreaterThanOrEqual(1_000_000);
      expect(uid).toBeLessThanOrEqual(1_999_999);
    }
  });

  test("live containers never share a uid while the range has a free one", () => {
    const uids = new SandboxUids({ from: 5000, to: 5009 });
    const taken = Array.from({ length: 10 }, () => uids.take());
    expect(new Set(taken).size).toBe(10);
    expect(taken.every((uid) => uid >= 5000 && uid <= 5009)).toBe(true);
  });

  test("a random pick that is held is retried; a nearly full range is scanned", () => {
    // random(10) says 3 every time: the first take gets 5003, the second finds 5004 by scanning
    const uids = new SandboxUids({ from: 5000, to: 5009 }, () => 3);
    expect(uids.take()).toBe(5003);
    expect(uids.take()).toBe(5004);
    expect(uids.take()).toBe(5005);
  });

  test("a released uid can be handed out again", () => {
    const uids = new SandboxUids({ from: 7000, to: 7000 });
    const a = uids.take();
    uids.release(a);
    expect(uids.inUse).toBe(0);
    expect(uids.take()).toBe(7000);
  });

  test("when every uid is held they are shared, the least shared first", () => {
    const uids = new SandboxUids({ from: 10, to: 11 }, sequence(0, 1));
    expect([uids.take(), uids.take()]).toEqual([10, 11]);
    const third = uids.take();
    const fourth = uids.take();
    expect(new Set([third, fourth])).toEqual(new Set([10, 11]));
    expect(uids.inUse).toBe(2);
    // release counts down: the uid stays held until its last container is gone
    uids.release(10);
    expect(uids.inUse).toBe(2);
    uids.release(10);
    expect(uids.inUse).toBe(1);
  });

  test("a range of one uid gives every container that uid", () => {
    const uids = new SandboxUids({ from: 10_000, to: 10_000 });
    expect([uids.take(), uids.take(), uids.take()]).toEqual([10_000, 10_000, 10_000]);
  });

  test("releasing a uid that is not held is harmless", () => {
    const uids = new SandboxUids({ from: 1, to: 2 });
    uids.release(99);
    expect(uids.inUse).toBe(0);
  });
});

describe("config security.sandboxUids", () => {
  test("the default is a million uids clear of host users (1000-60000) and of uid 10000", () => {
    const { from, to } = parseConfig({}).security.sandboxUids;
    expect({ from, to }).toEqual({ from: 1_000_000, to: 1_999_999 });
    expect(from).toBeGreaterThan(65_535);
    expect(to).toBeLessThan(2_097_152); // ustar tar headers hold uids below 8^7
  });

  test("a range is accepted and kept", () => {
    expect(parseConfig({ security: { sandboxUids: { from: 20_000, to: 29_999 } } }).security.sandboxUids).toEqual({ from: 20_000, to: 29_999 });
    expect(parseConfig({ security: { sandboxUids: { from: 10_000, to: 10_000 } } }).security.sandboxUids.to).toBe(10_000);
  });

  const refused: [string, unknown][] = [
    ["from above to", { from: 2000, to: 1999 }],
    ["root or system uids", { from: 0, to: 5000 }],
    ["below 1000", { from: 999, to: 5000 }],
    ["above 2147483646", { from: 5000, to: 2_147_483_647 }],
    ["not an integer", { from: 1000.5, to: 5000 }],
    ["a missing bound", { from: 5000 }],
    ["an unknown key", { from: 5000, to: 6000, step: 1 }],
    ["not an object", [5000, 6000]],
  ];
  test.each(refused)("refused: %s", (_, sandboxUids) => {
    expect(() => parseConfig({ security: { sandboxUids } })).toThrow(ConfigError);
  });
});
