// One execution, step by step: wait for a slot → pick the image → acquire a container →
// stage inputs (files, packages) and run the program under the execution's network policy
// → collect the output files → release the container. Each step is a named function.
import type { ExecutionResult } from "../../protocol/execution";
import type { Slots } from "../../lib/slots";
import type { FilteringProxy } from "../network/filtering-proxy";
import type { SandboxProvider } from "../pool/provider";
import type { PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";
import { collectOutputFiles } from "./collect-outputs";
import type { RunHandlers } from "./handlers";
import { underNetworkPolicy } from "./network-policy";
import { executionResult, type ResultParts } from "./result";
import { runProgram } from "./run-program";
import { installPackages, writeInputFiles } from "./stage-inputs";

export interface PipelineDeps {
  slots: Slots;
  /** The image an execution runs on (one with its packages baked in, when there is one), present. */
  resolveImage(prepared: PreparedExecution): Promise<PreparedExecution>;
  /** Where containers come from and go back to (pool, cold, or a persistent session). */
  containers: SandboxProvider;
  /** Filtered networking's proxy, once a filtered container exists. */
  proxy(): FilteringProxy | null;
  /** Package-registry hosts recorded on an image (allowed while packages install). */
  registryHosts(image: string): Promise<string[]>;
  /** Hands the container back after the run (`reusable`: every process of it was proven gone). */
  release(sandbox: Sandbox, reusable: boolean): void;
}

/** Runs one prepared execution through every step; outcomes of the code are fields of the result. */
export async function runPipeline(deps: PipelineDeps, requested: PreparedExecution, handlers: RunHandlers): Promise<ExecutionResult> {
  const release = await deps.slots.acquire()!; // the engine's queue is unbounded
  try {
    const prepared = await deps.resolveImage(requested);
    const sandbox = await deps.containers.acquire(prepared);
    let reusable = false;
    try {
      const { result, clean } = await runInContainer(deps, sandbox, prepared, handlers);
      reusable = clean;
      return result;
    } finally {
      deps.release(sandbox, reusable);
    }
  } finally {
    release();
  }
}

/** Inputs, program and outputs in one acquired container, under the network policy when filtered. */
async function runInContainer(
  deps: PipelineDeps,
  sandbox: Sandbox,
  prepared: PreparedExecution,
  handlers: RunHandlers,
): Promise<{ result: ExecutionResult; clean: boolean }> {
  const startedMs = performance.now();
  const timestamp = new Date().toISOString();
  const remaining = () => Math.max(1, prepared.timeoutMs - (performance.now() - startedMs));
  sandbox.uses++;

  const steps = async (): Promise<Omit<ResultParts, "prepared" | "containerId" | "startedMs" | "timestamp">> => {
    await writeInputFiles(sandbox, prepared);
    const failed = await installPackages(sandbox, prepared, handlers, remaining());
    if (failed) return { ...failed, files: {}, missingFiles: prepared.outputPaths.map((o) => o.requested) };
    const program = await runProgram(sandbox, prepared, handlers, remaining());
    return { ...program, ...(await collectOutputFiles(sandbox, prepared)) };
  };

  const proxy = deps.proxy();
  const common = { prepared, containerId: sandbox.id, startedMs, timestamp };
  if (!sandbox.proxy || !proxy || !prepared.policy) {
    const parts = await steps();
    return { result: executionResult({ ...common, ...parts }), clean: parts.report.clean };
  }
  const scope = {
    proxy,
    key: sandbox.proxy.key,
    policy: prepared.policy,
    registryHosts: prepared.install ? await deps.registryHosts(prepared.spec.image) : [],
    secrets: prepared.secrets,
  };
  const outcome = await underNetworkPolicy(scope, steps);
  const result = executionResult({ ...common, ...outcome.value });
  result.resourceUsage.networkBytesIn = outcome.bytesIn;
  result.resourceUsage.networkBytesOut = outcome.bytesOut;
  if (prepared.policy.logNetwork) result.networkLogs = outcome.logs;
  return { result, clean: outcome.value.report.clean };
}
