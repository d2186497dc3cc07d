// The isolation runtime in a prepared execution: it is part of the spec (so runc and gVisor
// containers are different pool kinds), and the network gVisor cannot give is refused.
import { describe, expect, test } from "bun:test";
import { defaultConfig } from "../config/schema";
import { RequestError } from "../errors";
import type { ExecutionRequest, IsolationRuntime } from "../protocol/execution";
import { createRuntimeRegistry } from "../runtimes/registry";
import { prepareExecution } from "./prepare";
import { thrown } from "../../test/thrown";

const prepare = (isolation: IsolationRuntime, request: Partial<ExecutionRequest> = {}) =>
  prepareExecution(
    { code: "print(1)", ...request },
    { config: defaultConfig(), runtimes: createRuntimeRegistry(), runtimeImage: (name) => `isol8:${name}`, seccomp: { mode: "unconfined" }, isolation, owner: "test" },
  );

describe("prepareExecution: isolation runtime", () => {
  test.each<IsolationRuntime>(["runc", "gvisor"])("%s is carried in the spec", (isolation) => {
    expect(prepare(isolation).spec.isolation).toBe(isolation);
  });

  test("runc and gvisor executions are different container kinds (pool keys)", () => {
    expect(prepare("runc").key).not.toBe(prepare("gvisor").key);
    expect(prepare("gvisor").key).toBe(prepare("gvisor").key);
  });

  test('network "host" under gvisor is refused, naming the field', () => {
    const error = thrown(() => prepare("gvisor", { network: "host" }), RequestError);
    expect(error.message).toBe('Cannot use network "host" with runtime "gvisor": gVisor runs without a network of its own');
    expect(error.field).toBe("network");
  });

  test.each<[string, Partial<ExecutionRequest>]>([
    ["none", { network: "none" }],
    ["filtered", { network: "filtered" }],
  ])("still works: network %s under gvisor", (_, request) => {
    expect(prepare("gvisor", request).spec.network).toBe(request.network!);
  });
});
