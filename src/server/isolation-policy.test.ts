// The server's clamp on the isolation runtime (security.runtime): a client may ask for gVisor
// on any server; a server that runs gVisor itself refuses requests for runc.
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load";
import type { ExecutionRequest } from "../protocol/execution";
import { HttpError } from "./http";
import { applyServerPolicy } from "./policy";
import { thrown } from "../../test/thrown";

const policy = (runtime: "runc" | "gvisor", seccomp: "strict" | "unconfined" = "strict") => ({
  config: parseConfig({ security: { runtime, seccomp } }),
  builtinImages: ["isol8:python"],
});

describe("applyServerPolicy: security.runtime", () => {
  test.each<[string, "runc" | "gvisor", ExecutionRequest["security"], ExecutionRequest["security"] | undefined]>([
    ["a runc server runs a gvisor request under gvisor", "runc", { runtime: "gvisor" }, { runtime: "gvisor" }],
    ["a runc request on a runc server runs with the server's settings", "runc", { runtime: "runc" }, undefined],
    ["a gvisor request on a gvisor server runs with the server's settings", "gvisor", { runtime: "gvisor" }, undefined],
    ["no runtime asked: the server's own", "gvisor", { seccomp: "strict" }, undefined],
    ["gvisor and a stronger seccomp mode together", "runc", { runtime: "gvisor", seccomp: "strict" }, { runtime: "gvisor" }],
  ])("%s", (_, own, security, expected) => {
    const allowed = applyServerPolicy({ code: "1", security }, policy(own));
    expect(allowed.security).toEqual(expected);
  });

  test("a gvisor server refuses runc: 403 naming security.runtime", () => {
    const error = thrown(() => applyServerPolicy({ code: "1", security: { runtime: "runc" } }, policy("gvisor")), HttpError);
    expect(error.status).toBe(403);
    expect(error.message).toBe('option "security.runtime" is not allowed: "runc" is weaker than this server\'s "gvisor" (this server requires gVisor)');
  });

  test("the seccomp clamp still applies beside the runtime", () => {
    const error = thrown(() => applyServerPolicy({ code: "1", security: { runtime: "gvisor", seccomp: "unconfined" } }, policy("runc")), HttpError);
    expect(error.message).toStartWith('option "security.seccomp" is not allowed');
    const stronger = applyServerPolicy({ code: "1", security: { runtime: "gvisor", seccomp: "strict" } }, policy("runc", "unconfined"));
    expect(stronger.security).toEqual({ seccomp: "strict", runtime: "gvisor" });
  });
});
