// The 32-bit system-call ABIs (docs/SECURITY.md I2, A2). The strict profile filters
// the native ABI only, so every int 0x80 (from a 32-bit or a 64-bit process) and every x32
// call is refused, socketcall included, whose arguments sit in memory where seccomp
// cannot check the socket family. Probes are tiny static programs (compat-abi-probes.ts);
// each prints its name and exit status: 200 = the call succeeded, 159 = killed by SIGSYS.
// No socket is ever connected: creating one is the proof.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import { TEST_ISOLATION, testEngine } from "../helpers";
import { type Abi, type Family, FORBIDDEN_FAMILIES, getpidProgram, socketcallProgram, socketProgram } from "../../src/doctor/compat-abi-probes";
import { has32BitAbi, hostCompatStatuses } from "./kernel-abi";
import { ownedContainers } from "./owned-containers";

const SUCCEEDED = 200;
const KILLED_BY_SIGSYS = 128 + 31;
/**
 * gVisor has no 32-bit ABI at all: an i386 program cannot even be executed (126), int 0x80
 * from a 64-bit program is a fault (SIGSEGV, 139), and x32 numbers are refused by the
 * profile (EPERM; unconfined, gVisor's own ENOSYS). Nothing foreign succeeds either way.
 */
const gvisor = TEST_ISOLATION === "gvisor";
const GVISOR_STRICT: Record<Abi, number> = { i386: 126, compat: 128 + 11, x32: 1, native: SUCCEEDED };
const GVISOR_UNCONFINED: Record<Abi, number> = { i386: 126, compat: 128 + 11, x32: 38, native: SUCCEEDED };
/**
 * A host kernel without IA32 emulation (built or booted without it) has no 32-bit ABI either:
 * the same 126 and SIGSEGV, with or without the profile, which still kills x32 numbers
 * (unconfined the kernel answers ENOSYS: it has no x32 ABI). The profile's SIGSYS for i386 and
 * int 0x80 can be shown only where the kernel would run those calls; checked on this host.
 */
const host = gvisor ? null : hostCompatStatuses();
const host32 = host !== null && has32BitAbi(host);
const NO_ABI_STRICT: Record<Abi, number> = { i386: 126, compat: 128 + 11, x32: KILLED_BY_SIGSYS, native: SUCCEEDED };
const NO_ABI_UNCONFINED: Record<Abi, number> = { i386: 126, compat: 128 + 11, x32: 38, native: SUCCEEDED };
if (!gvisor && !host32) console.log("this host's kernel has no 32-bit ABI (no IA32 emulation): i386 and int 0x80 probes cannot run here, with or without seccomp");
const expectedStrict = (abi: Abi) => (gvisor ? GVISOR_STRICT[abi] : host32 ? KILLED_BY_SIGSYS : NO_ABI_STRICT[abi]);
const abiOf = (name: string) => name.split(".")[0] as Abi;
const FAMILIES = Object.keys(FORBIDDEN_FAMILIES) as Family[];
const FOREIGN: Abi[] = ["i386", "compat", "x32"];

/** Every probe as a file under /sandbox/probes: name -> program. */
function probeFiles(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (const abi of [...FOREIGN, "native"] as Abi[]) {
    files[`probes/${abi}.getpid`] = getpidProgram(abi);
    for (const family of FAMILIES) files[`probes/${abi}.socket.${family}`] = socketProgram(abi, family);
  }
  for (const abi of ["i386", "compat"] as const) {
    for (const family of FAMILIES) files[`probes/${abi}.socketcall.${family}`] = socketcallProgram(abi, family);
  }
  return files;
}

const RUN_ALL = `cd /sandbox/probes && for p in *; do chmod 700 "$p"; ./"$p" 2>/dev/null; echo "$p $?"; done`;

async function runProbes(engine: DockerIsol8): Promise<Record<string, number>> {
  const result = await engine.execute({ runtime: "bash", code: RUN_ALL, files: probeFiles(), timeoutMs: 60_000 });
  expect(result.exitCode).toBe(0);
  return Object.fromEntries(
    result.stdout
      .trim()
      .split("\n")
      .map((line) => line.split(" "))
      .map(([name, status]) => [name!, Number(status)]),
  );
}

const strictEngine = testEngine({ pool: false });
const looseEngine = testEngine({ pool: false, config: { security: { seccomp: "unconfined" } } });
let strict: Record<string, number> = {};
let unconfined: Record<string, number> = {};

beforeAll(async () => {
  [strict, unconfined] = await Promise.all([runProbes(strictEngine), runProbes(looseEngine)]);
}, 120_000);

afterAll(async () => {
  await Promise.all([strictEngine.stop(), looseEngine.stop()]);
  expect(await ownedContainers(strictEngine)).toEqual([]);
  expect(await ownedContainers(looseEngine)).toEqual([]);
});

describe("strict profile: every 32-bit and x32 system call is refused", () => {
  const foreignProbes = [
    ...FOREIGN.map((abi) => `${abi}.getpid`),
    ...FOREIGN.flatMap((abi) => FAMILIES.map((family) => `${abi}.socket.${family}`)),
    ...(["i386", "compat"] as const).flatMap((abi) => FAMILIES.map((family) => `${abi}.socketcall.${family}`)),
  ];

  test("every probe ran", () => {
    expect(Object.keys(strict).sort()).toEqual(Object.keys(probeFiles()).map((p) => p.slice("probes/".length)).sort());
  });

  test.each(foreignProbes)("%s: killed by SIGSYS before the call runs (gVisor or a kernel without IA32 emulation: no 32-bit ABI, x32 refused)", (name) => {
    expect(strict[name]).toBe(expectedStrict(abiOf(name)));
    expect(strict[name]).not.toBe(SUCCEEDED);
  });
});

describe("still works: the native ABI", () => {
  test("native socket(AF_INET) and getpid succeed", () => {
    expect(strict["native.socket.AF_INET"]).toBe(SUCCEEDED);
    expect(strict["native.getpid"]).toBe(SUCCEEDED);
  });

  test("native socket(AF_VSOCK / AF_ALG / AF_PACKET) stays refused with EPERM", () => {
    for (const family of ["AF_VSOCK", "AF_ALG", "AF_PACKET"]) expect(strict[`native.socket.${family}`]).toBe(1);
  });
});

describe("the probes are real: without seccomp the same programs create sockets", () => {
  test.each(["i386", "compat"] as const)("%s: socketcall(AF_INET) and socketcall(AF_VSOCK) succeed unconfined (gVisor or a kernel without IA32 emulation: no such ABI)", (abi) => {
    if (gvisor || !host32) {
      const expected = gvisor ? GVISOR_UNCONFINED[abi] : NO_ABI_UNCONFINED[abi];
      for (const name of [`${abi}.socketcall.AF_INET`, `${abi}.socketcall.AF_VSOCK`, `${abi}.getpid`]) expect(unconfined[name]).toBe(expected);
      return;
    }
    expect(unconfined[`${abi}.socketcall.AF_INET`]).toBe(SUCCEEDED);
    expect(unconfined[`${abi}.socketcall.AF_VSOCK`]).toBe(SUCCEEDED);
    expect(unconfined[`${abi}.getpid`]).toBe(SUCCEEDED);
  });

  test("gVisor: the filter is what refuses x32 (EPERM), its own kernel answers ENOSYS without it", () => {
    if (!gvisor) return;
    for (const name of Object.keys(strict).filter((n) => n.startsWith("x32."))) {
      expect([strict[name], unconfined[name]]).toEqual([1, 38]);
    }
  });

  test("runc: the containers' kernel is this host's: the unconfined probes end as they do on the host", () => {
    if (!host) return;
    expect([unconfined["i386.getpid"], unconfined["compat.getpid"]]).toEqual([host.i386, host.compat]);
  });

  test("nothing is killed by SIGSYS without seccomp", () => {
    expect(Object.entries(unconfined).filter(([, status]) => status === KILLED_BY_SIGSYS)).toEqual([]);
  });
});
