import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load";
import type { ExecutionRequest } from "../protocol/execution";
import { HttpError } from "./http";
import { applyServerPolicy } from "./policy";

const policyOf = (config: unknown) => ({ config: parseConfig(config), builtinImages: [] });

/** The HttpError applyServerPolicy throws, or null when the request passes. */
function refusal(request: ExecutionRequest, config: unknown): HttpError | null {
  try {
    applyServerPolicy(request, policyOf(config));
    return null;
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
}

describe("applyServerPolicy: installs", () => {
  const install: ExecutionRequest = { code: "1", installPackages: ["tinypkg"] };

  test.each<[string, ExecutionRequest, unknown, boolean]>([
    ["installPackages under the default config: refused", install, {}, true],
    ["installPackages with network none: refused", { ...install, network: "none" }, {}, true],
    ["installPackages with server.allowInstalls: allowed", install, { server: { allowInstalls: true } }, false],
    ["an empty installPackages list: allowed", { code: "1", installPackages: [] }, {}, false],
    ["no installPackages: allowed", { code: "1" }, {}, false],
  ])("%s", (_, request, config, refused) => {
    expect(refusal(request, config) !== null).toBe(refused);
  });

  test("the refusal is a 403 naming the option and the server key that allows it", () => {
    const error = refusal(install, {})!;
    expect(error.status).toBe(403);
    expect(error.message).toBe('option "installPackages" is not allowed: installs are disabled on this server (server.allowInstalls)');
    expect(error.detail).toEqual({ code: "policy-denied", field: "installPackages" });
  });
});

describe("applyServerPolicy: output-file limits", () => {
  test.each<[string, ExecutionRequest, unknown, string | null]>([
    ["more files than the defaults allow", { code: "1", maxOutputFiles: 65 }, {}, "maxOutputFiles"],
    ["a larger file than the defaults allow", { code: "1", maxOutputFileSize: "65m" }, {}, "maxOutputFileSize"],
    ["more bytes together than server.limits allow", { code: "1", maxOutputFilesTotal: "2g" }, { server: { limits: { maxOutputFilesTotal: "1g" } } }, "maxOutputFilesTotal"],
    ["still works: within server.limits", { code: "1", maxOutputFileSize: "200m" }, { server: { limits: { maxOutputFileSize: "256m" } } }, null],
    ["still works: lower than the defaults", { code: "1", maxOutputFiles: 2, maxOutputFileSize: "1k" }, {}, null],
  ])("%s", (_, request, config, option) => {
    const error = refusal(request, config);
    expect(error?.status ?? null).toBe(option ? 403 : null);
    expect(error?.detail.field ?? null).toBe(option);
  });
});

describe("applyServerPolicy: limits a request leaves out", () => {
  test.each<[string, ExecutionRequest, unknown, Partial<ExecutionRequest>]>([
    [
      "below the defaults, server.limits lower what the request does not name",
      { code: "1" },
      { server: { limits: { maxOutputFileSize: "1m", timeoutMs: 5000 } } },
      { maxOutputFileSize: "1m", timeoutMs: 5000 },
    ],
    ["a default already within server.limits is left to the engine", { code: "1" }, { server: { limits: { maxOutputFileSize: "256m" } } }, { maxOutputFileSize: undefined }],
    ["a value the request names is kept", { code: "1", maxOutputFileSize: "10k" }, { server: { limits: { maxOutputFileSize: "1m" } } }, { maxOutputFileSize: "10k" }],
    ["without server.limits nothing is added", { code: "1" }, {}, { maxOutputFileSize: undefined, timeoutMs: undefined }],
    ["defaults.* lowered below server.limits: nothing is added", { code: "1" }, { defaults: { timeoutMs: 1000 }, server: { limits: { timeoutMs: 5000 } } }, { timeoutMs: undefined }],
  ])("%s", (_, request, config, expected) => {
    const allowed = applyServerPolicy(request, policyOf(config));
    for (const [name, value] of Object.entries(expected)) expect([name, allowed[name as keyof ExecutionRequest]]).toEqual([name, value]);
  });
});
