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
    ["installPackages under the default config", install, {}, true],
    ["installPackages with network none", { ...install, network: "none" }, {}, true],
    ["installPackages with server.allowInstalls", install, { server: { allowInstalls: true } }, false],
    ["an empty installPackages list", { code: "1", installPackages: [] }, {}, false],
    ["no installPackages", { code: "1" }, {}, false],
  ])("%s → refused: %p", (_, request, config, refused) => {
    expect(refusal(request, config) !== null).toBe(refused);
  });

  test("the refusal is a 403 naming the option and the server key that allows it", () => {
    const error = refusal(install, {})!;
    expect(error.status).toBe(403);
    expect(error.message).toBe('option "installPackages" is not allowed: installs are disabled on this server (server.allowInstalls)');
    expect(error.extra).toEqual({ option: "installPackages" });
  });
});
