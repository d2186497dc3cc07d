import { describe, expect, test } from "bun:test";
import type { NetworkLogEntry } from "../../protocol/execution";
import type { ExecutionNetworkPolicy, FilteringProxy } from "../network/filtering-proxy";
import { phasePolicy, type PolicyScope, underNetworkPolicy } from "./network-policy";

const entry = (host: string): NetworkLogEntry => ({
  timestamp: "t",
  method: "GET",
  host,
  port: 80,
  path: "/",
  action: "ALLOW",
  status: 200,
  durationMs: 1,
  bytesIn: 1,
  bytesOut: 1,
});

/**
 * A proxy that records what it was told. As the real one: an open tunnel is logged when it
 * ends, setPolicy and clearPolicy end every open one, and setPolicy then starts a fresh log.
 */
function fakeProxy() {
  const calls: (ExecutionNetworkPolicy | "clear")[] = [];
  let logs: NetworkLogEntry[] = [];
  let open: string[] = [];
  let bytes = { in: 0, out: 0 };
  const endOpen = () => {
    for (const host of open) logs.push(entry(host));
    open = [];
  };
  const proxy = {
    setPolicy(_key: string, policy: ExecutionNetworkPolicy) {
      calls.push(policy);
      endOpen();
      logs = [];
      bytes = { in: 0, out: 0 };
    },
    clearPolicy() {
      calls.push("clear");
      endOpen();
    },
    takeLogs() {
      const taken = logs;
      logs = [];
      return taken;
    },
    takeBytes() {
      const taken = bytes;
      bytes = { in: 0, out: 0 };
      return taken;
    },
  };
  /** A request the sandbox made under the current policy. */
  const request = (host: string, size: number) => {
    logs.push(entry(host));
    bytes.in += size;
    bytes.out += 1;
  };
  /** A tunnel the sandbox opened and left open (npm's keep-alive connections to a registry). */
  const tunnel = (host: string) => open.push(host);
  return { proxy: proxy as unknown as FilteringProxy, calls, request, tunnel };
}

const policy = { allow: ["api\\.test"], deny: ["bad\\.test"], logNetwork: true };

describe("phasePolicy", () => {
  test.each<[string, readonly string[] | null, ExecutionNetworkPolicy]>([
    ["the program's: its own lists, no registry", null, { allow: ["api\\.test"], deny: ["bad\\.test"], logRequests: true, maskValues: ["s3cret"] }],
    [
      "the install's: the program's lists plus the registries",
      ["registry.test"],
      { allow: ["api\\.test"], deny: ["bad\\.test"], alwaysAllowHosts: ["registry.test"], logRequests: true, maskValues: ["s3cret"] },
    ],
  ])("%s", (_, installHosts, expected) => {
    expect(phasePolicy({ policy, secrets: ["s3cret"] }, installHosts)).toEqual(expected);
  });
});

describe("underNetworkPolicy", () => {
  const scope = (proxy: FilteringProxy, installHosts: readonly string[] | null): PolicyScope => ({
    proxy,
    key: "k",
    policy,
    installHosts,
    secrets: [],
  });

  test("with an install: the registries until toProgram, then the program's policy; logs and bytes of both phases", async () => {
    const { proxy, calls, request } = fakeProxy();
    const outcome = await underNetworkPolicy(scope(proxy, ["registry.test"]), async (phases) => {
      request("registry.test", 100);
      phases.toProgram();
      request("api.test", 10);
      phases.toProgram(); // a second call changes nothing
      return "done";
    });
    expect(calls.map((c) => (c === "clear" ? c : (c.alwaysAllowHosts ?? [])))).toEqual([["registry.test"], "clear", [], "clear"]);
    expect(outcome.value).toBe("done");
    expect(outcome.logs.map((l) => l.host)).toEqual(["registry.test", "api.test"]);
    expect([outcome.bytesIn, outcome.bytesOut]).toEqual([110, 2]);
  });

  test("a tunnel the install left open is cut at toProgram and logged with the install's entries", async () => {
    const { proxy, tunnel } = fakeProxy();
    const outcome = await underNetworkPolicy(scope(proxy, ["registry.test"]), async (phases) => {
      tunnel("registry.test");
      phases.toProgram();
      tunnel("api.test");
    });
    expect(outcome.logs.map((l) => l.host)).toEqual(["registry.test", "api.test"]);
  });

  test("without an install: the program's policy throughout", async () => {
    const { proxy, calls } = fakeProxy();
    await underNetworkPolicy(scope(proxy, null), async (phases) => phases.toProgram());
    expect(calls).toEqual([phasePolicy({ policy, secrets: [] }, null), "clear"]);
  });

  test("a failing step still clears the policy", async () => {
    const { proxy, calls } = fakeProxy();
    const failure = underNetworkPolicy(scope(proxy, ["registry.test"]), async () => {
      throw new Error("boom");
    });
    await expect(failure).rejects.toThrow("boom");
    expect(calls.at(-1)).toBe("clear");
  });
});
