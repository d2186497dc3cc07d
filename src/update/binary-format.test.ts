import { describe, expect, test } from "bun:test";
import { containsBytes, executableTarget, targetProblem } from "./binary-format";

/** A 64-bit little-endian ELF header with this e_machine. */
const elf = (machine: number) => {
  const h = new Uint8Array(64);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  new DataView(h.buffer).setUint16(18, machine, true);
  return h;
};
/** A 64-bit Mach-O header with this cputype. */
const macho = (cpu: number) => {
  const h = new Uint8Array(32);
  const view = new DataView(h.buffer);
  view.setUint32(0, 0xfeedfacf, true);
  view.setUint32(4, cpu, true);
  return h;
};

describe("executableTarget", () => {
  test.each<[string, Uint8Array, string | null]>([
    ["ELF x86-64", elf(0x3e), "linux-x64"],
    ["ELF aarch64", elf(0xb7), "linux-arm64"],
    ["ELF riscv", elf(0xf3), null],
    ["32-bit ELF", (() => { const h = elf(0x3e); h[4] = 1; return h; })(), null],
    ["Mach-O x86_64", macho(0x01000007), "darwin-x64"],
    ["Mach-O arm64", macho(0x0100000c), "darwin-arm64"],
    ["a script", new TextEncoder().encode("#!/bin/sh\necho hi\n"), null],
    ["nothing", new Uint8Array(0), null],
  ])("%s → %s", (_, header, target) => {
    expect(executableTarget(header)).toBe(target);
  });
});

describe("targetProblem", () => {
  test("a header that matches its name is fine; another is named", () => {
    expect(targetProblem("darwin-arm64", macho(0x0100000c))).toBeNull();
    expect(targetProblem("linux-arm64", elf(0x3e))).toBe("built for linux-x64, named linux-arm64");
  });
});

describe("containsBytes", () => {
  test("finds a marker anywhere, and not a missing one", () => {
    const data = new TextEncoder().encode(`xx${"\0".repeat(100)}ISOL8 0.2.0 yy`);
    expect(containsBytes(data, "0.2.0")).toBe(true);
    expect(containsBytes(data, "0.3.0")).toBe(false);
  });
});
