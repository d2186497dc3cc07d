import type { NetworkLogEntry } from "../../protocol/execution";
import type { FilteringProxy } from "../network/filtering-proxy";
import type { PreparedExecution } from "../prepare";

export interface PolicyScope {
  proxy: FilteringProxy;
  /** The container's listener key on the proxy. */
  key: string;
  policy: NonNullable<PreparedExecution["policy"]>;
  /** Hosts allowed besides the policy (package registries while installing). */
  registryHosts: readonly string[];
  /** Values masked in the network log. */
  secrets: readonly string[];
}

export interface PolicyOutcome<T> {
  value: T;
  bytesIn: number;
  bytesOut: number;
  /** The execution's own log entries (and no other's). */
  logs: NetworkLogEntry[];
}

/**
 * Runs one execution of a filtered container under its own network policy: set before the
 * first step, cleared (cutting whatever is still connected) when `run` ends, whatever the
 * outcome. Returns the bytes moved and the log entries of this execution.
 */
export async function underNetworkPolicy<T>(scope: PolicyScope, run: () => Promise<T>): Promise<PolicyOutcome<T>> {
  const { proxy, key, policy } = scope;
  proxy.setPolicy(key, {
    allow: policy.allow,
    deny: policy.deny,
    alwaysAllowHosts: scope.registryHosts,
    logRequests: policy.logNetwork,
    maskValues: scope.secrets,
  });
  let value: T;
  try {
    value = await run();
  } finally {
    proxy.clearPolicy(key);
  }
  const bytes = proxy.takeBytes(key);
  return { value, bytesIn: bytes.in, bytesOut: bytes.out, logs: proxy.takeLogs(key) };
}
