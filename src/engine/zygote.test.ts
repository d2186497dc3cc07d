import { describe, expect, test } from "bun:test";
import { type ZygoteChoice, wantsZygote } from "./zygote";

const base: ZygoteChoice = { enabled: true, runtime: "python", isolation: "runc", customImage: false, oneShot: false };

describe("wantsZygote", () => {
  test.each<[string, Partial<ZygoteChoice>, boolean]>([
    ["python on runc, built-in image, pooled", {}, true],
    ["switched off (security.pythonZygote false)", { enabled: false }, false],
    ["under gVisor (clone3 needs drop_and_exec's ENOSYS filter)", { isolation: "gvisor" }, false],
    ["node", { runtime: "node" }, false],
    ["bash", { runtime: "bash" }, false],
    ["a custom image", { customImage: true }, false],
    ["a one-shot (cold) container", { oneShot: true }, false],
  ])("%s", (_name, change, expected) => {
    expect(wantsZygote({ ...base, ...change })).toBe(expected);
  });
});
