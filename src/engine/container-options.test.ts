import { describe, expect, test } from "bun:test";
import type { IsolationRuntime } from "../protocol/execution";
import { gvisorReuseProblem, PROCESS_LIMIT_ENV, type SandboxAttachments, type SandboxSpec, SUPERVISOR_CAPS, toContainerOptions as toOptions } from "./container-options";

const MiB = 1024 ** 2;
const PROFILE = JSON.stringify({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }] });

const UID = 1_234_567;
/** The mapping with this container's own uid (and any other attachments). */
const toContainerOptions = (s: SandboxSpec, attachments: Partial<SandboxAttachments> = {}) => toOptions(s, { uid: UID, ...attachments });

function spec(overrides: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    image: "isol8:python",
    memoryBytes: 512 * MiB,
    cpu: 1,
    pidsLimit: 64,
    sandboxBytes: 512 * MiB,
    tmpBytes: 256 * MiB,
    network: "none",
    seccomp: { mode: "strict", profile: PROFILE },
    isolation: "runc",
    labels: { "org.isol8.managed": "true", "org.isol8.kind": "sandbox" },
    ...overrides,
  };
}

/** Splits Docker's tmpfs option string into its flags and key=value settings. */
function tmpfsOptions(value: string | undefined): { flags: string[]; settings: Record<string, string> } {
  const flags: string[] = [];
  const settings: Record<string, string> = {};
  for (const part of (value ?? "").split(",")) {
    const eq = part.indexOf("=");
    if (eq === -1) flags.push(part);
    else settings[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return { flags, settings };
}

describe("toContainerOptions: invariants that hold for every spec", () => {
  const specs: [string, SandboxSpec][] = [
    ["defaults", spec()],
    ["host network", spec({ network: "host" })],
    ["filtered network", spec({ network: "filtered" })],
    ["unconfined seccomp", spec({ seccomp: { mode: "unconfined" } })],
    ["custom seccomp", spec({ seccomp: { mode: "custom", profile: PROFILE } })],
    ["small limits", spec({ memoryBytes: 6 * MiB, cpu: 0.01, pidsLimit: 1, sandboxBytes: 1, tmpBytes: 1 })],
    ["named", spec({ name: "isol8-abc" })],
    ["gvisor", spec({ isolation: "gvisor" })],
    ["gvisor, filtered network", spec({ isolation: "gvisor", network: "filtered" })],
  ];

  test.each(specs)("%s: read-only root, not privileged", (_, s) => {
    const host = toContainerOptions(s).HostConfig!;
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.Privileged).toBe(false);
  });

  test.each(specs)("%s: drops ALL capabilities, adds back exactly SETUID SETGID SETPCAP KILL", (_, s) => {
    const host = toContainerOptions(s).HostConfig!;
    expect(host.CapDrop).toEqual(["ALL"]);
    expect([...(host.CapAdd ?? [])].sort()).toEqual(["KILL", "SETGID", "SETPCAP", "SETUID"]);
    expect(SUPERVISOR_CAPS).toEqual(["SETUID", "SETGID", "SETPCAP", "KILL"]);
  });

  test.each(specs)("%s: no-new-privileges and exactly one seccomp option", (_, s) => {
    const securityOpt = toContainerOptions(s).HostConfig!.SecurityOpt ?? [];
    expect(securityOpt).toContain("no-new-privileges:true");
    expect(securityOpt.filter((o: string) => o.startsWith("seccomp")).length).toBe(1);
    expect(securityOpt).toHaveLength(2);
  });

  test.each(specs)("%s: /sandbox tmpfs is exec, sized, owned by the sandbox uid", (_, s) => {
    const { flags, settings } = tmpfsOptions(toContainerOptions(s).HostConfig!.Tmpfs?.["/sandbox"]);
    expect(flags).toContain("exec");
    expect(flags).not.toContain("noexec");
    expect(flags).toContain("nosuid");
    expect(flags).toContain("nodev");
    expect(settings.size).toBe(String(s.sandboxBytes));
    expect(settings.uid).toBe(String(UID));
    expect(settings.gid).toBe(String(UID));
    expect(settings.mode).toBe("0755");
  });

  test.each(specs)("%s: /etc/isol8 (the passwd and group files) is a small root-owned tmpfs", (_, s) => {
    const { flags, settings } = tmpfsOptions(toContainerOptions(s).HostConfig!.Tmpfs?.["/etc/isol8"]);
    expect(flags).toEqual(expect.arrayContaining(["noexec", "nosuid", "nodev"]));
    expect(settings.uid).toBeUndefined(); // root, the tmpfs default
    expect(settings.mode).toBe("0755");
    expect(Number(settings.size)).toBeLessThanOrEqual(1024 * 1024);
  });

  test.each(specs)("%s: the supervisor gets the container's uid; the container is labelled with it", (_, s) => {
    const options = toContainerOptions(s);
    expect(options.Env).toContain(`ISOL8_SANDBOX_UID=${UID}`);
    expect(options.Labels?.["org.isol8.sandbox-uid"]).toBe(String(UID));
  });

  test.each(specs)("%s: /tmp tmpfs is noexec, nosuid, sized", (_, s) => {
    const { flags, settings } = tmpfsOptions(toContainerOptions(s).HostConfig!.Tmpfs?.["/tmp"]);
    expect(flags).toContain("noexec");
    expect(flags).not.toContain("exec");
    expect(flags).toContain("nosuid");
    expect(flags).toContain("nodev");
    expect(settings.size).toBe(String(s.tmpBytes));
  });

  test.each(specs)("%s: only /sandbox and /tmp are writable mounts (and root's /etc/isol8); no binds, volumes or devices", (_, s) => {
    const options = toContainerOptions(s);
    const host = options.HostConfig!;
    expect(Object.keys(host.Tmpfs ?? {}).sort()).toEqual(["/etc/isol8", "/sandbox", "/tmp"]);
    expect(host.Binds).toBeUndefined();
    expect(host.Mounts).toBeUndefined();
    expect(host.Devices).toBeUndefined();
    expect(options.Volumes).toBeUndefined();
  });

  test.each(specs)("%s: memory limit includes swap", (_, s) => {
    const host = toContainerOptions(s).HostConfig!;
    expect(host.Memory).toBe(s.memoryBytes);
    expect(host.MemorySwap).toBe(s.memoryBytes);
  });

  test.each(specs)("%s: pids and cpu limits", (_, s) => {
    const host = toContainerOptions(s).HostConfig!;
    expect(host.PidsLimit).toBe(s.isolation === "gvisor" ? 64 + 12 * s.pidsLimit : s.pidsLimit);
    expect(host.NanoCpus).toBe(Math.round(s.cpu * 1e9));
  });

  test.each(specs)("%s: labels passed through, no container logs, no environment but the uid (and gVisor's process limit)", (_, s) => {
    const options = toContainerOptions(s);
    expect(options.Labels).toEqual({ ...s.labels, "org.isol8.sandbox-uid": String(UID) });
    expect(options.HostConfig!.LogConfig?.Type).toBe("none");
    expect(options.Env).toEqual([`ISOL8_SANDBOX_UID=${UID}`, ...(s.isolation === "gvisor" ? [`${PROCESS_LIMIT_ENV}=${s.pidsLimit}`] : [])]);
    expect(options.Image).toBe(s.image);
  });

  test.each(specs)("%s: private IPC, no host namespaces", (_, s) => {
    const host = toContainerOptions(s).HostConfig!;
    expect(host.IpcMode).toBe("private");
    expect(host.PidMode).toBeUndefined();
    expect(host.UsernsMode).toBeUndefined();
    expect((host as Record<string, unknown>).CgroupnsMode).toBeUndefined();
  });
});

describe("toContainerOptions: seccomp", () => {
  const cases: [string, SandboxSpec["seccomp"], string][] = [
    ["strict", { mode: "strict", profile: PROFILE }, `seccomp=${PROFILE}`],
    ["custom", { mode: "custom", profile: '{"defaultAction":"SCMP_ACT_ALLOW"}' }, 'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'],
    ["unconfined", { mode: "unconfined" }, "seccomp=unconfined"],
  ];
  test.each(cases)("%s", (_, seccomp, expected) => {
    const securityOpt = toContainerOptions(spec({ seccomp })).HostConfig!.SecurityOpt;
    expect(securityOpt).toEqual(["no-new-privileges:true", expected]);
  });
});

describe("toContainerOptions: isolation runtime", () => {
  const cases: [SandboxSpec["isolation"], string][] = [
    ["runc", "runc"],
    ["gvisor", "runsc"],
  ];
  test.each(cases)("%s runs under Docker's runtime %p", (isolation, runtime) => {
    expect(toContainerOptions(spec({ isolation })).HostConfig!.Runtime).toBe(runtime);
  });

  test("runc and gvisor containers of one spec differ only in the runtime, the host's pids limit and the process limit for the supervisor", () => {
    const runc = toContainerOptions(spec({ isolation: "runc" }));
    const gvisor = toContainerOptions(spec({ isolation: "gvisor" }));
    const asRunc: typeof gvisor = {
      ...gvisor,
      Env: gvisor.Env!.filter((entry) => entry !== `${PROCESS_LIMIT_ENV}=64`),
      HostConfig: { ...gvisor.HostConfig, Runtime: "runc", PidsLimit: 64 },
    };
    expect(asRunc).toEqual(runc);
    expect(gvisor.Env).toContain(`${PROCESS_LIMIT_ENV}=64`);
  });

  const pids: [number, IsolationRuntime, number][] = [
    [64, "runc", 64],
    [1, "runc", 1],
    // gVisor's own threads and its per-process host stubs share the container's pids cgroup.
    [64, "gvisor", 64 + 12 * 64],
    [1, "gvisor", 76],
  ];
  test.each(pids)("pidsLimit %p under %s is a host pids limit of %p", (pidsLimit, isolation, host) => {
    expect(toContainerOptions(spec({ pidsLimit, isolation })).HostConfig!.PidsLimit).toBe(host);
  });
});

describe("gvisorReuseProblem", () => {
  const cases: [IsolationRuntime, number, number | null, string | null][] = [
    ["runc", 64, 5_000, null],
    ["gvisor", 64, null, null],
    ["gvisor", 64, 60, null],
    // Half of the room for sandbox processes: 64 + 12 * 64 / 2.
    ["gvisor", 64, 448, null],
    ["gvisor", 64, 449, "gVisor still holds 449 host tasks of its 832 (more than 448)"],
    ["gvisor", 8, 113, "gVisor still holds 113 host tasks of its 160 (more than 112)"],
  ];
  test.each(cases)("%s, pidsLimit %p, %p host tasks: %p", (isolation, pidsLimit, tasks, problem) => {
    expect(gvisorReuseProblem({ isolation, pidsLimit }, tasks)).toBe(problem);
  });
});

describe("toContainerOptions: network", () => {
  const cases: [string, Partial<SandboxSpec>, { disabled: boolean; mode: string }][] = [
    ["none", { network: "none" }, { disabled: true, mode: "none" }],
    ["host", { network: "host" }, { disabled: false, mode: "host" }],
    // Filtered mode has no network of its own: only loopback, where the forwarder listens.
    ["filtered", { network: "filtered" }, { disabled: true, mode: "none" }],
  ];
  test.each(cases)("%s", (_, overrides, expected) => {
    const options = toContainerOptions(spec(overrides));
    expect(options.NetworkDisabled).toBe(expected.disabled);
    expect(options.HostConfig!.NetworkMode).toBe(expected.mode);
  });

  const proxy = { hostDir: "/run/isol8/x", mount: "/run/isol8-proxy", socket: "proxy.sock", port: 8118 };
  test("filtered: the proxy socket directory is mounted read-only and named in the container env", () => {
    const options = toContainerOptions(spec({ network: "filtered" }), { proxy });
    expect(options.HostConfig!.Binds).toEqual(["/run/isol8/x:/run/isol8-proxy:ro"]);
    expect(options.Env).toEqual([`ISOL8_SANDBOX_UID=${UID}`, "ISOL8_PROXY_PORT=8118", "ISOL8_PROXY_SOCKET=/run/isol8-proxy/proxy.sock"]);
    expect(options.HostConfig!.CapAdd).toEqual(["SETUID", "SETGID", "SETPCAP", "KILL"]);
  });

  test("without a proxy attachment there are no binds and only the uid in the env", () => {
    const options = toContainerOptions(spec({ network: "none" }));
    expect(options.HostConfig!.Binds).toBeUndefined();
    expect(options.Env).toEqual([`ISOL8_SANDBOX_UID=${UID}`]);
  });

  const channel = { hostDir: "/run/isol8/c", mount: "/run/isol8-channel", socket: "channel.sock" };
  const attached: [string, Parameters<typeof toContainerOptions>[1], string[] | undefined, string[]][] = [
    ["nothing", {}, undefined, []],
    ["the direct channel", { channel }, ["/run/isol8/c:/run/isol8-channel:ro"], ["ISOL8_CHANNEL_SOCKET=/run/isol8-channel/channel.sock"]],
    [
      "the proxy and the direct channel",
      { proxy, channel },
      ["/run/isol8/x:/run/isol8-proxy:ro", "/run/isol8/c:/run/isol8-channel:ro"],
      ["ISOL8_PROXY_PORT=8118", "ISOL8_PROXY_SOCKET=/run/isol8-proxy/proxy.sock", "ISOL8_CHANNEL_SOCKET=/run/isol8-channel/channel.sock"],
    ],
  ];
  test.each(attached)("attached %s: read-only binds and env entries", (_, attachments, binds, env) => {
    const options = toContainerOptions(spec({ network: "filtered" }), attachments);
    expect(options.HostConfig!.Binds).toEqual(binds);
    expect(options.Env).toEqual([`ISOL8_SANDBOX_UID=${UID}`, ...env]);
  });
});

describe("toContainerOptions: resources", () => {
  const cases: [number, number][] = [
    [1, 1_000_000_000],
    [0.5, 500_000_000],
    [2.25, 2_250_000_000],
    [0.01, 10_000_000],
    [0.1, 100_000_000], // 0.1 * 1e9 is not exact in floating point: rounded
  ];
  test.each(cases)("cpu %p is %p NanoCpus", (cpu, nano) => {
    const nanoCpus = toContainerOptions(spec({ cpu })).HostConfig!.NanoCpus!;
    expect(nanoCpus).toBe(nano);
    expect(Number.isInteger(nanoCpus)).toBe(true);
  });

  test("/dev/shm is never larger than /tmp", () => {
    expect(toContainerOptions(spec({ tmpBytes: MiB })).HostConfig!.ShmSize).toBe(MiB);
    expect(toContainerOptions(spec({ tmpBytes: 1024 * MiB })).HostConfig!.ShmSize).toBe(64 * MiB);
  });
});

describe("toContainerOptions: the container's uid", () => {
  const uids: number[] = [1000, 10_000, 1_000_000, 1_999_999, 2_147_483_646];
  test.each(uids)("uid %p owns /sandbox and reaches the supervisor", (uid) => {
    const options = toContainerOptions(spec(), { uid });
    const { settings } = tmpfsOptions(options.HostConfig!.Tmpfs?.["/sandbox"]);
    expect([settings.uid, settings.gid]).toEqual([String(uid), String(uid)]);
    expect(options.Env).toContain(`ISOL8_SANDBOX_UID=${uid}`);
    expect(options.User).toBe("0:0"); // the supervisor; programs get the uid from it
  });

  test("two containers of one spec differ only in their uid", () => {
    const a = toContainerOptions(spec(), { uid: 1_000_001 });
    const b = toContainerOptions(spec(), { uid: 1_000_002 });
    const strip = (o: typeof a) => JSON.stringify(o).replaceAll(/1000001|1000002/g, "UID");
    expect(strip(a)).toBe(strip(b));
    expect(a).not.toEqual(b);
  });
});

describe("toContainerOptions: python zygote and removal", () => {
  test("a zygote container carries the zygote's program in its env and the same pids limit (the zygote is the runner the supervisor would fork); no other option changes", () => {
    const plain = toContainerOptions(spec());
    const zygote = toContainerOptions(spec({ zygote: true }));
    expect(zygote.Env).toEqual([...(plain.Env ?? []), expect.stringMatching(/^ISOL8_PYTHON_ZYGOTE=# isol8 python zygote/)]);
    expect(zygote.HostConfig?.PidsLimit).toBe(64);
    const rest = (o: typeof plain) => JSON.stringify({ ...o, Env: [] });
    expect(rest(zygote)).toBe(rest(plain));
  });

  test("a container with a standby program carries its description in its env; no other option changes", () => {
    const plain = toContainerOptions(spec());
    const standby = toContainerOptions(spec({ standby: { argv: ["node", "/s.cjs"], env: ["NODE_OPTIONS=--max-old-space-size=384"], startupFiles: [] } }));
    expect(standby.Env).toEqual([...(plain.Env ?? []), "ISOL8_STANDBY=anode\na/s.cjs\neNODE_OPTIONS=--max-old-space-size=384"]);
    expect(JSON.stringify({ ...standby, Env: [] })).toBe(JSON.stringify({ ...plain, Env: [] }));
  });

  test.each<[string, Partial<SandboxSpec>, boolean]>([
    ["default", {}, false],
    ["autoRemove (one-shot CLI)", { autoRemove: true }, true],
  ])("%s: AutoRemove and StdinOnce are %p", (_name, overrides, expected) => {
    const options = toContainerOptions(spec(overrides));
    expect(options.HostConfig?.AutoRemove).toBe(expected);
    expect(options.StdinOnce).toBe(expected);
  });
});

describe("toContainerOptions: process", () => {
  test("the supervisor starts as root in /sandbox with an attached stdin", () => {
    const options = toContainerOptions(spec());
    expect(options.User).toBe("0:0");
    expect(options.WorkingDir).toBe("/sandbox");
    expect(options.OpenStdin).toBe(true);
    expect(options.Tty).toBe(false);
  });

  test("a name is set only when given", () => {
    expect("name" in toContainerOptions(spec())).toBe(false);
    expect(toContainerOptions(spec({ name: "isol8-x" })).name).toBe("isol8-x");
  });

  test("is pure: the same spec gives equal options and the spec is not changed", () => {
    const s = spec();
    const before = structuredClone(s);
    expect(toContainerOptions(s)).toEqual(toContainerOptions(s));
    expect(s).toEqual(before);
  });

  test("the returned capability list is a copy", () => {
    const options = toContainerOptions(spec());
    options.HostConfig!.CapAdd!.push("SYS_ADMIN");
    expect(toContainerOptions(spec()).HostConfig!.CapAdd).toEqual(["SETUID", "SETGID", "SETPCAP", "KILL"]);
  });
});
