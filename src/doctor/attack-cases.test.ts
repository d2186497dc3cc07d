import { describe, expect, test } from "bun:test";
import { judgeAroundProxy, judgeCalls, judgeCanaries, judgeCapabilities, judgeCompatAbi, judgeProxy, refusedBy } from "./attack-cases";

const EPERM: [number, number] = [-1, 1];
const OK: [number, number] = [0, 0];

describe("judgeCalls", () => {
  test.each<[string, Record<string, [number, number]>, "pass" | "fail", string]>([
    ["every attempt refused, control works", { mount: EPERM, "unshare(user)": [-1, 38], "control: mkdir": OK }, "pass", "mount EPERM, unshare(user) ENOSYS"],
    ["a killed attempt is a refusal", { bpf: [-2, 0], "control: getpid": [7, 0] }, "pass", "bpf killed"],
    ["an attempt that succeeds", { mount: EPERM, personality: OK, "control: getpid": OK }, "fail", "personality succeeded"],
    ["a broken control proves nothing", { mount: EPERM, "control: mkdir": EPERM }, "fail", "the probe itself failed"],
  ])("%s", (_, calls, status, mentioned) => {
    const verdict = judgeCalls(calls, "test");
    expect(verdict.status).toBe(status);
    expect(verdict.detail).toContain(mentioned);
  });
});

describe("judgeCapabilities", () => {
  const zero = "0000000000000000";
  const locked = { uid: 1_000_123, euid: 1_000_123, caps: { CapInh: zero, CapPrm: zero, CapEff: zero, CapBnd: zero, CapAmb: zero }, seccomp: "2", noNewPrivs: 1, setuid0: EPERM };
  test.each<[string, Partial<typeof locked>, "pass" | "fail", string]>([
    ["locked down", {}, "pass", "every capability set empty"],
    ["gVisor: no CapAmb line", { caps: { ...locked.caps, CapAmb: "" } }, "pass", "every capability set empty"],
    ["a capability left", { caps: { ...locked.caps, CapEff: "0000000000000020" } }, "fail", "CapEff 0000000000000020"],
    ["no seccomp", { seccomp: "0" }, "fail", "Seccomp is 0"],
    ["root", { uid: 0, euid: 0 }, "fail", "runs as root"],
    ["no NoNewPrivs", { noNewPrivs: 0 }, "fail", "NoNewPrivs is not set"],
  ])("%s", (_, overrides, status, mentioned) => {
    const verdict = judgeCapabilities({ ...locked, ...overrides });
    expect(verdict.status).toBe(status);
    expect(verdict.detail).toContain(mentioned);
  });
});

describe("judgeCanaries", () => {
  test.each<[string, boolean, string[], "pass" | "fail"]>([
    ["nothing found", true, [], "pass"],
    ["a file found", true, ["/tmp/canary"], "fail"],
    ["a process found", true, ["process 12"], "fail"],
    ["canaries never written", false, [], "fail"],
  ])("%s", (_, ok, found, status) => {
    expect(judgeCanaries({ ok }, { found }, true).status).toBe(status);
  });
});

describe("judgeProxy", () => {
  test.each<[string, Record<string, { status?: number; error?: string }>, "pass" | "fail"]>([
    ["every address refused with 403", { "http://169.254.169.254/": { status: 403 }, "https://10.0.0.1/": { error: "URLError: Tunnel connection failed: 403 Forbidden" } }, "pass"],
    ["an address answered", { "http://169.254.169.254/": { status: 200 } }, "fail"],
    ["no answer from the proxy at all", { "http://10.0.0.1/": { error: "URLError: Connection refused" } }, "fail"],
  ])("%s", (_, results, status) => {
    expect(judgeProxy(results).status).toBe(status);
  });
});

describe("judgeAroundProxy", () => {
  test.each<[string, { interfaces: string[]; routes: number; resolvers: Record<string, [number, number]> }, "pass" | "fail"]>([
    ["loopback only", { interfaces: ["lo"], routes: 0, resolvers: {} }, "pass"],
    ["resolver unreachable", { interfaces: ["lo"], routes: 0, resolvers: { "10.0.0.2": [-1, 101] } }, "pass"],
    ["an interface", { interfaces: ["eth0", "lo"], routes: 1, resolvers: {} }, "fail"],
    ["a routable resolver", { interfaces: ["lo"], routes: 0, resolvers: { "10.0.0.2": OK } }, "fail"],
  ])("%s", (_, found, status) => {
    expect(judgeAroundProxy(found).status).toBe(status);
  });
});

describe("judgeCompatAbi", () => {
  test.each<[string, Record<string, number>, "pass" | "fail"]>([
    ["killed or failed, native ran", { "native.getpid": 200, "native.socket.AF_INET": 200, "i386.getpid": 159, "x32.socket.AF_VSOCK": 1 }, "pass"],
    ["a 32-bit socketcall succeeded", { "native.getpid": 200, "i386.socketcall.AF_INET": 200 }, "fail"],
    ["the native control did not run", { "native.getpid": 126, "i386.getpid": 159 }, "fail"],
  ])("%s", (_, statuses, status) => {
    expect(judgeCompatAbi(statuses).status).toBe(status);
  });

  test("the detail says what refused each call: the profile, or a kernel without a 32-bit ABI", () => {
    const verdict = judgeCompatAbi({ "native.getpid": 200, "i386.getpid": 126, "i386.socket.AF_INET": 126, "compat.getpid": 139, "x32.getpid": 159, "x32.socket.AF_VSOCK": 1 });
    expect(verdict.status).toBe("pass");
    expect(verdict.detail).toBe(
      "5 i386, compat (int 0x80) and x32 calls refused (2 not executable (the kernel has no 32-bit ABI), 1 faulted (int 0x80 without a 32-bit ABI), 1 killed by the profile (SIGSYS), 1 refused with EPERM), native control ran",
    );
  });
});

describe("refusedBy", () => {
  test.each<[number, string]>([
    [159, "killed by the profile (SIGSYS)"],
    [126, "not executable (the kernel has no 32-bit ABI)"],
    [139, "faulted (int 0x80 without a 32-bit ABI)"],
    [1, "refused with EPERM"],
    [38, "failed (exit 38)"],
  ])("%d: %s", (status, what) => {
    expect(refusedBy(status)).toBe(what);
  });
});
