import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load";
import type { ExecutionRequest } from "../protocol/execution";
import { HttpError } from "./http";
import type { KeyPolicy } from "../protocol/tenancy";
import { applyServerPolicy, type Clamps, narrow, serverClamps } from "./policy";

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

describe("narrow: a key's policy only ever narrows the server's", () => {
  const base = (config: unknown) => serverClamps(parseConfig(config));
  const open = { server: { allowHostNetwork: true, allowClientNetworkPatterns: true, allowInstalls: true, allowedImages: ["img-a", "img-b"], limits: { memoryLimit: "2g", timeoutMs: 60_000 } } };

  test.each<[string, unknown, KeyPolicy, Partial<Clamps>]>([
    ["an empty policy keeps the server's clamps", open, {}, { networks: ["none", "filtered", "host"], allowInstalls: true, allowedImages: ["img-a", "img-b"], seccomp: "strict" }],
    ["lower limits are taken", open, { limits: { memoryLimit: "256m", timeoutMs: 5_000 } }, { limits: { ...serverClamps(parseConfig(open)).limits, memoryLimit: "256m", timeoutMs: 5_000 } }],
    ["higher limits are not", open, { limits: { memoryLimit: "8g", timeoutMs: 600_000 } }, { limits: serverClamps(parseConfig(open)).limits }],
    ["sizes compare by bytes, not text", open, { limits: { memoryLimit: "1024m" } }, { limits: { ...serverClamps(parseConfig(open)).limits, memoryLimit: "1024m" } }],
    ["networks: the intersection", open, { networks: ["none", "filtered"] }, { networks: ["none", "filtered"] }],
    ["networks: host where the server has none stays out", {}, { networks: ["host", "none"] }, { networks: ["none"] }],
    ["installs off by the key", open, { allowInstalls: false }, { allowInstalls: false }],
    ["installs on by the key where the server has them off: off", {}, { allowInstalls: true }, { allowInstalls: false }],
    ["allow patterns on by the key where the server has them off: off", {}, { allowClientNetworkPatterns: true }, { allowClientNetworkPatterns: false }],
    ["images: the intersection", open, { allowedImages: ["img-b", "img-c"] }, { allowedImages: ["img-b"] }],
    ["seccomp: a key may require strict where the server runs unconfined", { security: { seccomp: "unconfined" } }, { seccomp: "strict" }, { seccomp: "strict" }],
    ["seccomp: a key's weaker mode does not weaken a strict server", {}, { seccomp: "unconfined" }, { seccomp: "strict" }],
  ])("%s", (_, config, policy, expected) => {
    expect(narrow(base(config), policy)).toMatchObject({ ...expected, of: "key" });
  });

  test("narrowing twice never widens: narrow(narrow(s, a), b) is within narrow(s, a)", () => {
    const s = base(open);
    const a = narrow(s, { networks: ["none"], allowInstalls: false, allowedImages: ["img-a"], limits: { memoryLimit: "512m" } });
    const b = narrow(a, { networks: ["none", "host"], allowInstalls: true, allowedImages: ["img-a", "img-b"], limits: { memoryLimit: "4g" } });
    expect(b).toMatchObject({ networks: ["none"], allowInstalls: false, allowedImages: ["img-a"], limits: { memoryLimit: "512m" } });
  });
});

describe("applyServerPolicy with a key's clamps", () => {
  const config = parseConfig({ server: { allowInstalls: true, allowedImages: ["img-a"], allowHostNetwork: true } });
  const keyed = (policy: KeyPolicy) => ({ config, builtinImages: ["isol8:python"], clamps: narrow(serverClamps(config), policy) });
  const refusedBy = (request: ExecutionRequest, policy: KeyPolicy) => {
    try {
      applyServerPolicy(request, keyed(policy));
      return null;
    } catch (error) {
      return error as HttpError;
    }
  };

  test.each<[string, ExecutionRequest, KeyPolicy, string | null]>([
    ["a memory limit above the key's maximum: 403 memoryLimit", { code: "1", memoryLimit: "1g" }, { limits: { memoryLimit: "256m" } }, "memoryLimit"],
    ["still works: within the key's maximum", { code: "1", memoryLimit: "200m" }, { limits: { memoryLimit: "256m" } }, null],
    ["a network mode the key may not use", { code: "1", network: "filtered" }, { networks: ["none"] }, "network"],
    ["the server's default network, when the key may not use it", { code: "1" }, { networks: ["filtered"] }, "network"],
    ["still works: a network mode the key may use", { code: "1", network: "filtered" }, { networks: ["none", "filtered"] }, null],
    ["installs the key may not make", { code: "1", installPackages: ["x"] }, { allowInstalls: false }, "installPackages"],
    ["still works: installs the key may make", { code: "1", installPackages: ["x"] }, {}, null],
    ["an image the server allows but the key does not", { code: "1", image: "img-a" }, { allowedImages: [] }, "image"],
    ["still works: a built-in image", { code: "1", image: "isol8:python" }, { allowedImages: [] }, null],
    ["host networking the server allows but the key does not", { code: "1", network: "host" }, { networks: ["none", "filtered"] }, "network"],
  ])("%s", (_, request, policy, field) => {
    const error = refusedBy(request, policy);
    expect(error?.detail.field ?? null).toBe(field);
    if (error) expect(error.status).toBe(403);
  });

  test("the refusal names the key's maximum", () => {
    expect(refusedBy({ code: "1", timeoutMs: 9_000 }, { limits: { timeoutMs: 5_000 } })?.message).toBe(
      'option "timeoutMs" is not allowed: 9000 is above this key\'s maximum of 5000',
    );
  });

  test("a key held to strict runs strict on a server whose own mode is weaker; asking weaker is refused", () => {
    const loose = parseConfig({ security: { seccomp: "unconfined" } });
    const clamps = narrow(serverClamps(loose), { seccomp: "strict" });
    expect(applyServerPolicy({ code: "1" }, { config: loose, builtinImages: [], clamps }).security).toEqual({ seccomp: "strict" });
    expect(() => applyServerPolicy({ code: "1", security: { seccomp: "unconfined" } }, { config: loose, builtinImages: [], clamps })).toThrow(
      '"unconfined" is weaker than this key\'s "strict"',
    );
    // Twin: without the key's policy the server's own mode runs as configured.
    expect(applyServerPolicy({ code: "1" }, { config: loose, builtinImages: [] }).security).toBeUndefined();
  });
});
