import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cgroupVerdict, configVerdict, diskVerdict, dockerVersionVerdict, GVISOR_RUNTIME_ARGS, gvisorVerdict, parseCgroupControllers, runcVerdict, seccompVerdict, upstreamRuncVersion, usernsVerdict } from "./verdicts";

describe("runc against known container escapes", () => {
  test.each<[string, string | null]>([
    ["1.1.5+ds1-1+deb12u1", "1.1.5"],
    ["v1.1.12-0-g51d5e94", "1.1.12"],
    ["1.0.0~rc93+ds1-5+deb11u3", "1.0.0-rc.93"],
    ["1.0.0-rc95", "1.0.0-rc.95"],
    ["1.2.8", "1.2.8"],
    ["", null],
    ["N/A", null],
  ])("%p reads as upstream %p", (reported, upstream) => {
    expect(upstreamRuncVersion(reported)).toBe(upstream);
  });

  test.each<[string, "pass" | "warn" | "fail", string]>([
    // CVE-2024-21626 is fixed in 1.1.12 and in Debian's security updates of older versions.
    ["1.1.11", "fail", "CVE-2024-21626"],
    ["1.1.5", "fail", "CVE-2024-21626"],
    ["1.1.5+ds1-1", "fail", "CVE-2024-21626"],
    ["1.1.5+ds1-1+deb12u1", "warn", "CVE-2025-31133"],
    ["1.0.0~rc93+ds1-5+deb11u2", "fail", "CVE-2024-21626"],
    ["1.0.0~rc93+ds1-5+deb11u3", "warn", "CVE-2025-31133"],
    ["1.0.0-rc6", "fail", "CVE-2019-5736"],
    ["1.0.0-rc94", "fail", "CVE-2021-30465"],
    // Past 1.1.12 only the escapes that need a hostile image remain: a warning.
    ["1.1.12", "warn", "CVE-2025-52565"],
    ["1.2.7", "warn", "CVE-2025-52881"],
    ["1.2.8", "pass", "no known container escape"],
    ["v1.3.3", "pass", "no known container escape"],
    ["garbage", "warn", "not one isol8 can read"],
  ])("%p: %s (%s)", (version, status, mentioned) => {
    const verdict = runcVerdict(version);
    expect(verdict.status).toBe(status);
    expect(verdict.detail).toContain(mentioned);
    if (status !== "pass") expect(verdict.fix).toBeString();
  });
});

describe("Docker version", () => {
  test.each<[string, "pass" | "warn" | "fail"]>([
    ["20.10.24+dfsg1", "pass"],
    ["28.2.2", "pass"],
    ["19.03.15", "fail"],
    ["", "warn"],
  ])("%p: %s", (version, status) => {
    expect(dockerVersionVerdict(version).status).toBe(status);
  });
});

describe("cgroups", () => {
  const all = { cgroupVersion: "2", cgroupDriver: "systemd", memoryLimit: true, swapLimit: true, pidsLimit: true, cpuCfsQuota: true };
  test.each<[string, Partial<typeof all>, "pass" | "fail", string]>([
    ["v2 with every controller", {}, "pass", "cgroup v2 (systemd)"],
    ["v1 with every controller", { cgroupVersion: "1", cgroupDriver: "cgroupfs" }, "pass", "cgroup v1 (cgroupfs)"],
    ["no swap accounting", { swapLimit: false }, "fail", "memory+swap"],
    ["no pids controller", { pidsLimit: false }, "fail", "pids"],
    ["no memory nor cpu", { memoryLimit: false, cpuCfsQuota: false }, "fail", "memory, cpu quota"],
  ])("%s", (_, overrides, status, mentioned) => {
    const verdict = cgroupVerdict({ ...all, ...overrides });
    expect(verdict.status).toBe(status);
    expect(verdict.detail).toContain(mentioned);
  });

  test.each<[string, string[]]>([
    ["cpuset cpu io memory hugetlb pids rdma misc\n", ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"]],
    ["", []],
    ["  memory   pids ", ["memory", "pids"]],
  ])("cgroup.controllers %p", (text, controllers) => {
    expect(parseCgroupControllers(text)).toEqual(controllers);
  });
});

describe("seccomp and user namespaces", () => {
  test.each<[string[], "pass" | "fail"]>([
    [["name=seccomp,profile=default"], "pass"],
    [["name=seccomp,profile=builtin", "name=cgroupns"], "pass"],
    [["name=apparmor"], "fail"],
    [[], "fail"],
  ])("security options %j: seccomp %s", (options, status) => {
    expect(seccompVerdict(options).status).toBe(status);
  });

  const uids = { from: 1_000_000, to: 1_999_999 };
  test.each<[string[], string]>([
    [["name=seccomp,profile=default", "name=userns"], "userns-remap"],
    [["name=seccomp,profile=default", "name=rootless"], "rootless Docker"],
    [["name=seccomp,profile=default"], "no user-namespace remapping"],
  ])("%j: %s", (options, mentioned) => {
    const verdict = usernsVerdict(options, uids);
    expect(verdict.status).toBe("pass");
    expect(verdict.detail).toContain(mentioned);
  });
});

describe("gVisor", () => {
  const registered = { runsc: { path: "/usr/bin/runsc", runtimeArgs: [...GVISOR_RUNTIME_ARGS] } };
  test.each<[string, Record<string, { path?: string; runtimeArgs?: string[] }>, boolean, "pass" | "warn" | "fail"]>([
    ["registered with isol8's arguments", registered, false, "pass"],
    ["registered with more arguments", { runsc: { runtimeArgs: ["--platform=ptrace", ...GVISOR_RUNTIME_ARGS] } }, true, "pass"],
    ["missing, not asked for", { runc: {} }, false, "warn"],
    ["missing, the config asks for it", { runc: {} }, true, "fail"],
    ["without --oci-seccomp", { runsc: { runtimeArgs: ["--network=none", "--host-uds=open"] } }, false, "warn"],
    ["without --host-uds=open, asked for", { runsc: { runtimeArgs: ["--network=none", "--oci-seccomp"] } }, true, "fail"],
  ])("%s: %s", (_, runtimes, wanted, status) => {
    expect(gvisorVerdict(runtimes, wanted).status).toBe(status);
  });

  test("the provisioning script registers the same arguments the check wants", () => {
    const script = readFileSync(join(import.meta.dir, "..", "..", ".ci", "provision-gvisor.sh"), "utf8");
    expect(/^ARGS=\((.*)\)$/m.exec(script)?.[1]?.split(" ")).toEqual([...GVISOR_RUNTIME_ARGS]);
  });
});

describe("disk space", () => {
  const GiB = 1024 ** 3;
  test.each<[number, "pass" | "warn" | "fail"]>([
    [50 * GiB, "pass"],
    [2 * GiB, "pass"],
    [1.5 * GiB, "warn"],
    [0.2 * GiB, "fail"],
  ])("%p bytes free: %s", (free, status) => {
    expect(diskVerdict("/var/lib/docker", free).status).toBe(status);
  });
});

describe("the config's security settings", () => {
  test.each<[string, string, "pass" | "warn"]>([
    ["strict", "runc", "pass"],
    ["strict", "gvisor", "pass"],
    ["custom", "runc", "warn"],
    ["unconfined", "gvisor", "warn"],
  ])("seccomp %p, runtime %p: %s", (seccomp, runtime, status) => {
    expect(configVerdict({ seccomp, runtime }).status).toBe(status);
  });
});
