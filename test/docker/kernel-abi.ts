// Whether the kernel that runs the containers (this host's, under runc) has the 32-bit
// system-call ABI: some kernels are built or booted without IA32 emulation, and then no
// i386 program runs (exec format error) and int 0x80 faults, with or without seccomp.
// The compat-ABI tests expect the profile's SIGSYS only where the kernel would run the call.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getpidProgram } from "../../src/doctor/compat-abi-probes";
import { exitStatus } from "../../src/update/run-forwarding";

/** Exit status of the i386 and the int 0x80 getpid probes run on this host (as a shell gives it): 200 where the call ran. */
export function hostCompatStatuses(): { i386: number; compat: number } {
  const dir = mkdtempSync(join(tmpdir(), "isol8-kernel-abi-"));
  try {
    const status = (abi: "i386" | "compat") => {
      const file = join(dir, abi);
      writeFileSync(file, getpidProgram(abi));
      chmodSync(file, 0o700);
      const run = spawnSync(file);
      // A program the kernel cannot execute: the shell's 126.
      if (run.error) return (run.error as NodeJS.ErrnoException).code === "ENOEXEC" ? 126 : -1;
      return exitStatus(run.signal ? { signal: run.signal } : { code: run.status ?? -1 });
    };
    return { i386: status("i386"), compat: status("compat") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** True when both probes ran their call (`statuses`: hostCompatStatuses()). */
export function has32BitAbi(statuses: { i386: number; compat: number }): boolean {
  return statuses.i386 === 200 && statuses.compat === 200;
}
