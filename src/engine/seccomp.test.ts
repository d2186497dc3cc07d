import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SECCOMP_STRICT_PROFILE } from "../assets";
import { foreignArchitectures, resolveSeccomp } from "./seccomp";

const strict = JSON.parse(SECCOMP_STRICT_PROFILE) as {
  archMap: { architecture: string; subArchitectures: string[] }[];
  syscalls: { names: string[] }[];
};

describe("the strict profile admits only the native system-call ABI", () => {
  test("no 32-bit or x32 sub-architectures", () => {
    expect(strict.archMap.map((a) => a.architecture).sort()).toEqual(["SCMP_ARCH_AARCH64", "SCMP_ARCH_X86_64"]);
    expect(strict.archMap.flatMap((a) => a.subArchitectures)).toEqual([]);
    expect(foreignArchitectures(strict)).toEqual([]);
  });

  test("names only 64-bit calls: no socketcall/ipc multiplexers, no *32/*64/_time64 twins", () => {
    const names = strict.syscalls.flatMap((s) => s.names);
    for (const name of ["socketcall", "ipc", "mmap2", "chown32", "fcntl64", "clock_gettime64", "_llseek"]) {
      expect(names).not.toContain(name);
    }
    expect(names.filter((n) => /(32|_time64)$/.test(n))).toEqual([]);
  });
});

describe("foreignArchitectures", () => {
  test.each([
    [{}, []],
    [{ architectures: ["SCMP_ARCH_X86_64"] }, []],
    [{ architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"] }, ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]],
    [{ archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86"] }] }, ["SCMP_ARCH_X86"]],
    [{ archMap: [{ architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] }] }, ["SCMP_ARCH_ARM"]],
    [{ archMap: "nonsense" }, []],
  ] as const)("%j -> %j", (profile, expected) => {
    expect(foreignArchitectures(profile as Record<string, unknown>)).toEqual([...expected]);
  });
});

describe("custom profiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "isol8-seccomp-"));
  const write = (name: string, profile: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(profile));
    return path;
  };

  test("one that admits 32-bit calls is refused, naming the architectures", () => {
    const path = write("docker-default-like.json", {
      defaultAction: "SCMP_ACT_ERRNO",
      archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] }],
      syscalls: [],
    });
    expect(() => resolveSeccomp({ seccomp: "custom", customProfilePath: path })).toThrow(
      `Cannot load seccomp profile "${path}": it admits 32-bit system calls (SCMP_ARCH_X86, SCMP_ARCH_X32)`,
    );
  });

  test("still works: a native-only custom profile loads", () => {
    const path = write("native.json", { defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"], syscalls: [] });
    expect(resolveSeccomp({ seccomp: "custom", customProfilePath: path }).mode).toBe("custom");
  });
});
