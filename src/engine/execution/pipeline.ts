// One execution, step by step, within one time budget (`timeoutMs` covers every phase):
// wait for a slot → pick the image and acquire a container → stage inputs (files, packages)
// → run the program (both under the execution's network policy) → collect output files →
// release the container. The host enforces the deadline itself: a supervisor that does not
// answer by the deadline (frozen, starved, dead) is abandoned and its container destroyed.
import { SandboxError } from "../../errors";
import type { ExecutionResult, Phase } from "../../protocol/execution";
import { Deadline, type Raced } from "../../lib/deadline";
import type { Slots } from "../../lib/slots";
import type { FilteringProxy } from "../network/filtering-proxy";
import type { SandboxProvider } from "../pool/provider";
import type { PreparedExecution } from "../prepare";
import type { Sandbox } from "../sandbox";
import type { ExitReport } from "../supervisor/protocol";
import { collectOutputFiles } from "./collect-outputs";
import type { RunHandlers } from "./handlers";
import { NO_PHASES, type NetworkPhases, underNetworkPolicy } from "./network-policy";
import type { OutputStreams } from "./output-streams";
import { PhaseClock } from "./phase-clock";
import { executionResult, missingReport, notRead, type ResultParts } from "./result";
import { runProgram } from "./run-program";
import { installPackages, writeInputFiles } from "./stage-inputs";

/** How long past the deadline the host waits for a supervisor's answer before giving up on it. */
export const HOST_GRACE_MS = 750;

export interface PipelineDeps {
  slots: Slots;
  /** The image an execution runs on (one with its packages baked in, when there is one), present. */
  resolveImage(prepared: PreparedExecution): Promise<PreparedExecution>;
  /** Where containers come from and go back to (pool, cold, or a persistent session). */
  containers: SandboxProvider;
  /** Filtered networking's proxy, once a filtered container exists. */
  proxy(): FilteringProxy | null;
  /** Package-registry hosts recorded on an image (allowed to the install step only). */
  registryHosts(image: string): Promise<string[]>;
  /** Hands the container back after the run (`reusable`: every process of it was proven gone). */
  release(sandbox: Sandbox, reusable: boolean): void;
  /** The error for a container lost during an execution (`why` says what became of it). */
  containerLost(sandbox: Sandbox, why: string): Error;
}

/** Runs one prepared execution through every step; outcomes of the code are fields of the result (output files as bytes). */
export async function runPipeline(deps: PipelineDeps, requested: PreparedExecution, handlers: RunHandlers): Promise<ExecutionResult<Uint8Array>> {
  const clock = new PhaseClock();
  const timestamp = new Date().toISOString();
  const deadline = Deadline.after(requested.timeoutMs);
  const notStarted = (reason: ExitReport["reason"]) =>
    executionResult({
      prepared: requested,
      containerId: null,
      clock,
      timestamp,
      report: missingReport(reason),
      streams: null,
      ...notRead(requested, reason === "timeout" ? "not read: the time budget ran out before the program ran" : "not read: the execution was aborted"),
      ...(reason === "timeout" ? { timeoutPhase: clock.phase } : {}),
    });

  const release = await waitForSlot(deps.slots, deadline, handlers.signal);
  if (release === "timeout" || release === "aborted") return notStarted(release === "timeout" ? "timeout" : "aborted");
  try {
    clock.enter("acquire");
    const acquiring = acquireContainer(deps, requested);
    const acquired = await deadline.race(acquiring);
    if (!acquired.done) {
      // The container may still arrive: it never ran anything, so it simply goes back.
      void acquiring.then(({ sandbox }) => deps.release(sandbox, true)).catch(() => {});
      return notStarted("timeout");
    }
    const { prepared, sandbox } = acquired.value;
    let reusable = false;
    try {
      const parts = await runInContainer(deps, sandbox, prepared, handlers, deadline, clock).catch(async (error) => {
        // The channel broke mid-run (container killed, removed, supervisor dead): say what happened.
        if (!(error instanceof SandboxError) || !sandbox.channel.broken) throw error;
        const fate = await sandbox.whatHappened();
        // The program reached its memory limit and the limit took the whole sandbox with it
        // (under gVisor its kernel runs in the container's cgroup): an outcome of the code.
        if (fate.memoryLimit) return memoryLimitParts(prepared);
        throw deps.containerLost(sandbox, fate.words);
      });
      reusable = parts.report.clean && parts.timeoutPhase === undefined;
      const result = executionResult({ prepared, containerId: sandbox.id, clock, timestamp, ...parts });
      if (parts.network) {
        result.resourceUsage.networkBytesIn = parts.network.bytesIn;
        result.resourceUsage.networkBytesOut = parts.network.bytesOut;
        if (prepared.policy?.logNetwork) result.networkLogs = parts.network.logs;
      }
      return result;
    } finally {
      deps.release(sandbox, reusable);
    }
  } finally {
    release();
  }
}

/** The result parts of a run whose sandbox the memory limit stopped: exit 137 (SIGKILL), oomKilled; its output is lost with it. */
export function memoryLimitParts(prepared: PreparedExecution): ContainerParts {
  const report: ExitReport = { ...missingReport("exited"), exitCode: 137, signal: 9, oomKilled: true };
  return { report, streams: null, ...notRead(prepared, "not read: the memory limit stopped the sandbox") };
}

/** A slot, or why none came: the budget ran out, or the caller gave up while queued. */
async function waitForSlot(slots: Slots, deadline: Deadline, signal?: AbortSignal): Promise<(() => void) | "timeout" | "aborted"> {
  const leave = new AbortController();
  const onAbort = () => leave.abort(new Error("aborted"));
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => leave.abort(new Error("timeout")), deadline.remaining());
  try {
    return await slots.acquire(leave.signal)!; // the engine's queue is unbounded
  } catch {
    return signal?.aborted ? "aborted" : "timeout";
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

async function acquireContainer(deps: PipelineDeps, requested: PreparedExecution): Promise<{ prepared: PreparedExecution; sandbox: Sandbox }> {
  const prepared = await deps.resolveImage(requested);
  return { prepared, sandbox: await deps.containers.acquire(prepared) };
}

type ContainerParts = Pick<ResultParts, "report" | "streams" | "files" | "missingFiles" | "fileErrors" | "timeoutPhase"> & {
  network?: { bytesIn: number; bytesOut: number; logs: NonNullable<ExecutionResult["networkLogs"]> };
};

/**
 * Inputs, program and outputs in one acquired container, under the network policy when
 * filtered. Every supervisor call is raced against the deadline (plus a little grace): one
 * that does not answer abandons the container (its channel is closed; it is never reused).
 */
async function runInContainer(
  deps: PipelineDeps,
  sandbox: Sandbox,
  prepared: PreparedExecution,
  handlers: RunHandlers,
  deadline: Deadline,
  clock: PhaseClock,
): Promise<ContainerParts> {
  sandbox.uses++;
  const abandoned = (phase: Phase, streams: OutputStreams | null): ContainerParts => {
    sandbox.channel.close();
    streams?.stdout.end(false);
    streams?.stderr.end(false);
    return { report: missingReport("timeout"), streams, ...notRead(prepared, "not read: the time budget ran out"), timeoutPhase: phase };
  };
  /** The work's outcome, or `done: false` when the supervisor did not answer by the deadline. */
  const answered = async <T>(work: Promise<T>): Promise<Raced<T>> => {
    const raced = await deadline.race(work, HOST_GRACE_MS);
    if (!raced.done) work.catch(() => {}); // settles (rejects) once the channel is closed
    return raced;
  };

  const steps = async (network: NetworkPhases): Promise<ContainerParts> => {
    clock.enter("install");
    if (!(await answered(writeInputFiles(sandbox, prepared))).done) return abandoned("install", null);
    const install = installPackages(sandbox, prepared, handlers, deadline.remaining());
    const installed = await answered(install.done);
    if (!installed.done) return abandoned("install", install.streams);
    if (installed.value) return { ...installed.value, ...notRead(prepared, "not read: the package install failed") };
    network.toProgram(); // the registries were for the install only

    clock.enter("run");
    const program = runProgram(sandbox, prepared, handlers, Math.max(1, deadline.remaining()));
    const ran = await answered(program.done);
    if (!ran.done) return abandoned("run", program.streams);

    clock.enter("collect");
    const collected = await answered(collectOutputFiles(sandbox, prepared));
    if (!collected.done) return { ...abandoned("collect", ran.value.streams), report: ran.value.report };
    return { ...ran.value, ...collected.value };
  };

  const proxy = deps.proxy();
  if (!sandbox.proxy || !proxy || !prepared.policy) return steps(NO_PHASES);
  const scope = {
    proxy,
    key: sandbox.proxy.key,
    policy: prepared.policy,
    installHosts: prepared.install ? await deps.registryHosts(prepared.spec.image) : null,
    secrets: prepared.secrets,
  };
  const outcome = await underNetworkPolicy(scope, steps);
  return { ...outcome.value, network: { bytesIn: outcome.bytesIn, bytesOut: outcome.bytesOut, logs: outcome.logs } };
}
