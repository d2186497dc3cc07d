// The battery of `isol8 doctor --attack`: each case attacks a real sandbox of this host and
// judges what came back. The judges are pure (table-tested in attack-cases.test.ts).
import { randomUUID } from "node:crypto";
import type { ExecutionRequest, ExecutionResult } from "../protocol/execution";
import { fail, pass, type Verdict } from "./check";
import { type Abi, type Family, getpidProgram, socketcallProgram, socketProgram } from "./compat-abi-probes";
import * as probes from "./attack-probes";

/** What a case may do with the sandboxes under test. */
export interface AttackTarget {
  execute(request: ExecutionRequest): Promise<ExecutionResult>;
  /** Resolves when the pool has wiped and put back what was used. */
  poolIdle(): Promise<void>;
}

export interface AttackCase {
  name: string;
  run(target: AttackTarget): Promise<Verdict>;
}

type Calls = Record<string, [rc: number, errno: number]>;

const ERRNO_NAMES: Record<number, string> = { 1: "EPERM", 2: "ENOENT", 13: "EACCES", 19: "ENODEV", 22: "EINVAL", 38: "ENOSYS", 97: "EAFNOSUPPORT", 93: "EPROTONOSUPPORT", 101: "ENETUNREACH", 6: "ENXIO", 30: "EROFS" };
const describeCall = ([rc, errno]: [number, number]) => (rc >= 0 ? "succeeded" : rc === -2 ? "killed" : (ERRNO_NAMES[errno] ?? `errno ${errno}`));

/** Every attempt failed and every "control:" call succeeded. Pure. */
export function judgeCalls(calls: Calls, what: string): Verdict {
  const attempts = Object.entries(calls).filter(([name]) => !name.startsWith("control:"));
  const controls = Object.entries(calls).filter(([name]) => name.startsWith("control:"));
  const succeeded = attempts.filter(([, call]) => call[0] >= 0).map(([name]) => name);
  const brokenControls = controls.filter(([, call]) => call[0] < 0).map(([name, call]) => `${name} ${describeCall(call)}`);
  if (brokenControls.length) return fail(`the probe itself failed (${brokenControls.join(", ")}): the result proves nothing`, "run isol8 doctor --attack --debug and report it");
  if (succeeded.length) return fail(`${what}: ${succeeded.join(", ")} succeeded`, "keep security.seccomp \"strict\" and the default container options; see docs/SECURITY.md");
  return pass(`${attempts.map(([name, call]) => `${name} ${describeCall(call)}`).join(", ")}`);
}

/** I1: no capability in any set, NoNewPrivs, a seccomp filter, not root. Pure. */
export function judgeCapabilities(found: { uid: number; euid: number; caps: Record<string, string>; seccomp: string; noNewPrivs: number; setuid0: [number, number] }): Verdict {
  const problems: string[] = [];
  if (found.uid === 0 || found.euid === 0) problems.push("runs as root");
  for (const [set, value] of Object.entries(found.caps)) {
    // gVisor's /proc has no CapAmb line: an empty value is "not reported", not a capability.
    if (value !== "" && !/^0+$/.test(value)) problems.push(`${set} ${value}`);
  }
  if (found.noNewPrivs !== 1) problems.push("NoNewPrivs is not set");
  if (found.seccomp !== "2") problems.push(`Seccomp is ${found.seccomp || "not reported"}, not 2 (filter)`);
  if (found.setuid0[0] >= 0) problems.push("setuid(0) succeeded");
  if (problems.length) return fail(`the program ${problems.join(", ")}`, "use isol8's images and container options unchanged");
  return pass(`uid ${found.uid}, every capability set empty, NoNewPrivs 1, seccomp filter on, setuid(0) ${describeCall(found.setuid0)}`);
}

/** Pool hygiene: nothing of the first execution is seen by the next. Pure. */
export function judgeCanaries(first: { ok: boolean }, next: { found: string[] }, sameContainer: boolean): Verdict {
  if (!first.ok) return fail("the first execution could not leave its canaries: the result proves nothing", "run isol8 doctor --attack --debug and report it");
  if (next.found.length) return fail(`the next execution found ${next.found.join(", ")}`, 'use poolStrategy "secure", or poolSize 0 (no reuse)');
  return pass(`no file, process or shell init file of the previous execution seen${sameContainer ? " (same container, wiped)" : " (a fresh container was used)"}`);
}

/** Metadata and private addresses through the proxy: every one refused by the proxy. Pure. */
export function judgeProxy(results: Record<string, { status?: number; error?: string }>): Verdict {
  const reached = Object.entries(results).filter(([, r]) => r.status !== undefined && r.status < 400);
  const unrefused = Object.entries(results).filter(([, r]) => r.status === undefined && !/403|Forbidden|Tunnel connection failed/i.test(r.error ?? ""));
  if (reached.length) return fail(`reached through the proxy: ${reached.map(([url, r]) => `${url} (${r.status})`).join(", ")}`, "remove these ranges from network.allowedCidrs and network.hosts");
  if (unrefused.length) return fail(`no refusal from the proxy for ${unrefused.map(([url, r]) => `${url} (${r.error})`).join(", ")}: the proxy path itself does not work`, "run isol8 doctor --attack --debug");
  return pass(`${Object.keys(results).length} metadata and private addresses refused by the proxy (nothing connected)`);
}

/** No way around the proxy: loopback only, no route, the resolver unreachable. Pure. */
export function judgeAroundProxy(found: { interfaces: string[]; routes: number; resolvers: Calls }): Verdict {
  const problems: string[] = [];
  const others = found.interfaces.filter((i) => i !== "lo");
  if (others.length) problems.push(`interfaces ${others.join(", ")}`);
  if (found.routes > 0) problems.push(`${found.routes} route(s)`);
  const reachable = Object.entries(found.resolvers).filter(([, call]) => call[0] >= 0).map(([ns]) => ns);
  if (reachable.length) problems.push(`resolver ${reachable.join(", ")} routable`);
  if (problems.length) return fail(`a way around the proxy: ${problems.join(", ")}`, 'use network "none" or "filtered", never "host"');
  return pass(`loopback only, no route, ${Object.keys(found.resolvers).length ? `resolver(s) ${Object.entries(found.resolvers).map(([ns, c]) => `${ns} ${describeCall(c)}`).join(", ")}` : "no resolver configured"}`);
}

/** 32-bit and x32 system calls (socketcall hides its arguments from seccomp): none may succeed. Pure. */
export function judgeCompatAbi(statuses: Record<string, number>): Verdict {
  const SUCCEEDED = 200;
  if (statuses["native.getpid"] !== SUCCEEDED) return fail("the native control probe did not run: the result proves nothing", "run isol8 doctor --attack --debug");
  const foreign = Object.entries(statuses).filter(([name]) => !name.startsWith("native."));
  const succeeded = foreign.filter(([, status]) => status === SUCCEEDED).map(([name]) => name);
  if (succeeded.length) return fail(`32-bit calls succeeded: ${succeeded.join(", ")}`, 'keep security.seccomp "strict" (a custom profile must not list SCMP_ARCH_X86, X32 or ARM)');
  const counts = new Map<string, number>();
  for (const what of foreign.map(([, status]) => refusedBy(status))) counts.set(what, (counts.get(what) ?? 0) + 1);
  const how = [...counts].map(([what, n]) => `${n} ${what}`).join(", ");
  return pass(`${foreign.length} i386, compat (int 0x80) and x32 calls refused (${how}), native control ran`);
}

/**
 * What refused one foreign probe, from its exit status. A kernel without a 32-bit ABI (no
 * IA32 emulation, or gVisor's) refuses before the profile could: the i386 program is not
 * executable (126) and int 0x80 faults (SIGSEGV). Pure.
 */
export function refusedBy(status: number): string {
  if (status === 128 + 31) return "killed by the profile (SIGSYS)";
  if (status === 126) return "not executable (the kernel has no 32-bit ABI)";
  if (status === 128 + 11) return "faulted (int 0x80 without a 32-bit ABI)";
  return status === 1 ? "refused with EPERM" : `failed (exit ${status})`;
}

const parse = <T>(result: ExecutionResult): T => {
  if (result.exitCode !== 0) throw new Error(`the probe exited ${result.exitCode}: ${result.stderr.trim().split("\n").at(-1) ?? ""}`);
  return JSON.parse(result.stdout) as T;
};
const python = (code: string, extra: Partial<ExecutionRequest> = {}): ExecutionRequest => ({ runtime: "python", code, timeoutMs: 30_000, ...extra });

function compatProbeFiles(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const families: Family[] = ["AF_INET", "AF_VSOCK", "AF_PACKET"];
  for (const abi of ["i386", "compat", "x32", "native"] as Abi[]) {
    files[`probes/${abi}.getpid`] = getpidProgram(abi);
    for (const family of families) if (abi !== "native" || family === "AF_INET") files[`probes/${abi}.socket.${family}`] = socketProgram(abi, family);
  }
  for (const abi of ["i386", "compat"] as const) for (const family of families) files[`probes/${abi}.socketcall.${family}`] = socketcallProgram(abi, family);
  return files;
}

export const ATTACK_CASES: readonly AttackCase[] = [
  { name: "capabilities", run: async (t) => judgeCapabilities(parse(await t.execute(python(probes.CAPABILITIES)))) },
  { name: "mounts and namespaces", run: async (t) => judgeCalls(parse(await t.execute(python(probes.MOUNTS))), "mount or namespace") },
  {
    name: "ptrace of root processes",
    async run(t) {
      const found = parse<{ rootPids: number[]; results: Calls; "control: kill(self, 0)": [number, number] }>(await t.execute(python(probes.PTRACE)));
      if (!found.rootPids.length) return fail("no root process (the supervisor) is visible: the probe proves nothing", "run isol8 doctor --attack --debug");
      return judgeCalls({ ...found.results, "control: kill(self, 0)": found["control: kill(self, 0)"] }, "tracing, reading or signalling the supervisor");
    },
  },
  { name: "raw and foreign sockets", run: async (t) => judgeCalls(parse(await t.execute(python(probes.RAW_SOCKETS))), "socket") },
  {
    name: "32-bit and x32 system calls",
    async run(t) {
      const result = await t.execute({ runtime: "bash", code: probes.COMPAT_ABI_RUNNER, files: compatProbeFiles(), timeoutMs: 30_000 });
      if (result.exitCode !== 0) return fail(`the probes did not run (exit ${result.exitCode})`, "run isol8 doctor --attack --debug");
      return judgeCompatAbi(Object.fromEntries(result.stdout.trim().split("\n").map((line) => line.split(" ")).map(([name, status]) => [name!, Number(status)])));
    },
  },
  {
    name: "/proc secrets",
    async run(t) {
      const canary = `doctor-${randomUUID()}`;
      const found = parse<Record<string, unknown> & { secretFoundIn: string[]; "control: own environ": boolean }>(
        await t.execute(python(probes.PROC_SECRETS, { secrets: { ISOL8_DOCTOR_CANARY: canary } })),
      );
      if (!found["control: own environ"]) return fail("the program cannot see its own secret: the probe proves nothing", "run isol8 doctor --attack --debug");
      if (found.secretFoundIn.length) return fail(`the execution's secret is readable in ${found.secretFoundIn.join(", ")}`, "report it: secrets must live only in the program's own environment");
      const { secretFoundIn: _s, "control: own environ": _c, ...calls } = found;
      return judgeCalls(calls as Calls, "a /proc write or kernel memory read");
    },
  },
  { name: "device access", run: async (t) => judgeCalls(parse(await t.execute(python(probes.DEVICES))), "device access") },
  {
    name: "pool leak canaries",
    async run(t) {
      const canary = `doctor-${randomUUID()}`;
      const first = await t.execute(python(probes.leaveCanaries(canary)));
      await t.poolIdle();
      const next = await t.execute(python(probes.findCanaries(canary)));
      return judgeCanaries(parse(first), parse(next), first.containerId === next.containerId);
    },
  },
  {
    name: "metadata and private addresses through the proxy",
    run: async (t) => judgeProxy(parse(await t.execute(python(probes.THROUGH_PROXY, { network: "filtered", timeoutMs: 60_000 })))),
  },
  {
    name: "DNS and routes around the proxy",
    run: async (t) => judgeAroundProxy(parse(await t.execute(python(probes.AROUND_PROXY, { network: "filtered" })))),
  },
  { name: "clock changes", run: async (t) => judgeCalls(parse(await t.execute(python(probes.CLOCK))), "changing the clock") },
  { name: "system-call allowlist", run: async (t) => judgeCalls(parse(await t.execute(python(probes.SYSCALL_SURFACE))), "refused system calls") },
];
