import type { NetworkLogEntry } from "../../protocol/execution";
import type { ExecutionNetworkPolicy, FilteringProxy } from "../network/filtering-proxy";
import type { PreparedExecution } from "../prepare";

export interface PolicyScope {
  proxy: FilteringProxy;
  /** The container's listener key on the proxy. */
  key: string;
  /** The program's policy (for a "none" program, an empty allow list). */
  policy: NonNullable<PreparedExecution["policy"]>;
  /**
   * Package-registry hosts the install step may reach besides the program's allow list, or
   * null when nothing is installed. Never allowed to the program itself.
   */
  installHosts: readonly string[] | null;
  /** Values masked in the network log. */
  secrets: readonly string[];
}

/** The steps of one execution tell the policy when the install is over. */
export interface NetworkPhases {
  /** Ends the install step's reach (its connections are cut): from here only the program's policy holds. */
  toProgram(): void;
}

export interface PolicyOutcome<T> {
  value: T;
  bytesIn: number;
  bytesOut: number;
  /** The execution's own log entries (and no other's), the install's first. */
  logs: NetworkLogEntry[];
}

/** What the proxy enforces for one phase: the program's, or the install's (the program's plus the registries). Pure. */
export function phasePolicy(scope: Pick<PolicyScope, "policy" | "secrets">, installHosts: readonly string[] | null): ExecutionNetworkPolicy {
  return {
    allow: scope.policy.allow,
    deny: scope.policy.deny,
    ...(installHosts ? { alwaysAllowHosts: installHosts } : {}),
    logRequests: scope.policy.logNetwork,
    maskValues: scope.secrets,
  };
}

/** No proxy (network none or host): the phases are the container's own network throughout. */
export const NO_PHASES: NetworkPhases = { toProgram() {} };

/**
 * Runs one execution of a filtered container under its network policy: the install's while
 * packages install (when `installHosts` is set), then the program's from `toProgram()` on,
 * cleared (cutting whatever is still connected) when `run` ends, whatever the outcome. Each
 * switch ends the earlier phase's connections. Returns the bytes moved and the log entries
 * of this execution, both phases together.
 */
export async function underNetworkPolicy<T>(scope: PolicyScope, run: (phases: NetworkPhases) => Promise<T>): Promise<PolicyOutcome<T>> {
  const { proxy, key } = scope;
  const logs: NetworkLogEntry[] = [];
  const bytes = { in: 0, out: 0 };
  const take = () => {
    const moved = proxy.takeBytes(key);
    bytes.in += moved.in;
    bytes.out += moved.out;
    logs.push(...proxy.takeLogs(key));
  };
  let installing = scope.installHosts !== null;
  proxy.setPolicy(key, phasePolicy(scope, scope.installHosts));
  const phases: NetworkPhases = {
    toProgram() {
      if (!installing) return;
      installing = false;
      // Cut the install's connections first: a tunnel is logged when it ends, and setPolicy
      // starts a fresh log and byte count.
      proxy.clearPolicy(key);
      take();
      proxy.setPolicy(key, phasePolicy(scope, null));
    },
  };
  let value: T;
  try {
    value = await run(phases);
  } finally {
    proxy.clearPolicy(key);
  }
  take();
  return { value, bytesIn: bytes.in, bytesOut: bytes.out, logs };
}
