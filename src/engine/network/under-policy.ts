import type { PreparedExecution } from "../prepare";
import type { RunOutcome } from "../run-execution";
import type { FilteringProxy } from "./filtering-proxy";

/**
 * Runs one execution of a filtered container under its own network policy: set before the
 * program starts, cleared (cutting whatever is still connected) when it ends. The result
 * gets the bytes moved and, with logNetwork, the execution's log entries (and no other's).
 */
export async function runUnderPolicy(
  proxy: FilteringProxy,
  key: string,
  prepared: PreparedExecution & { policy: NonNullable<PreparedExecution["policy"]> },
  registryHosts: readonly string[],
  run: () => Promise<RunOutcome>,
): Promise<RunOutcome> {
  proxy.setPolicy(key, {
    allow: prepared.policy.allow,
    deny: prepared.policy.deny,
    alwaysAllowHosts: registryHosts,
    logRequests: prepared.policy.logNetwork,
    maskValues: prepared.secrets,
  });
  let outcome: RunOutcome;
  try {
    outcome = await run();
  } finally {
    proxy.clearPolicy(key);
  }
  const bytes = proxy.takeBytes(key);
  const logs = proxy.takeLogs(key);
  outcome.result.resourceUsage.networkBytesIn = bytes.in;
  outcome.result.resourceUsage.networkBytesOut = bytes.out;
  if (prepared.policy.logNetwork) outcome.result.networkLogs = logs;
  return outcome;
}
