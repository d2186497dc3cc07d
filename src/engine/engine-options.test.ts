import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load";
import { RequestError } from "../errors";
import { thrown } from "../../test/thrown";
import { resolveEngineOptions } from "./engine-options";

const requestError = (fn: () => unknown) => thrown(fn, RequestError);

describe("resolveEngineOptions: isol8 0.x top-level options", () => {
  test.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ["network and poolSize", { network: "filtered", poolSize: 1 }, { defaults: { network: "filtered" }, poolSize: 1 }],
    [
      "every limit",
      { memoryLimit: "32m", cpuLimit: 0.5, pidsLimit: 32, timeoutMs: 1000, maxOutputSize: 1024, sandboxSize: "64m", tmpSize: "16m" },
      { defaults: { memoryLimit: "32m", cpuLimit: 0.5, pidsLimit: 32, timeoutMs: 1000, maxOutputSize: 1024, sandboxSize: "64m", tmpSize: "16m" } },
    ],
    ["networkFilter", { networkFilter: { whitelist: ["a\\.test"], blacklist: ["b"] } }, { network: { whitelist: ["a\\.test"], blacklist: ["b"] } }],
    ["pool and concurrency", { poolStrategy: "secure", poolSize: { clean: 2, dirty: 0 }, maxConcurrent: 3 }, { poolStrategy: "secure", poolSize: { clean: 2, dirty: 0 }, maxConcurrent: 3 }],
    ["security", { security: { seccomp: "unconfined" } }, { security: { seccomp: "unconfined" } }],
    ["audit settings (its I/O is kept apart)", { audit: { enabled: true, logDir: "/tmp/a", write: () => {} } }, { audit: { enabled: true, logDir: "/tmp/a" } }],
    ["the engine's own options change no config", { mode: "persistent", pool: false, scope: "s", persist: true }, {}],
  ])("%s", (_, options, expected) => {
    expect(resolveEngineOptions(options).config).toEqual(expected);
  });

  test("top-level options win over config, which keeps its other keys", () => {
    const { config } = resolveEngineOptions({ memoryLimit: "32m" }, { defaults: { memoryLimit: "1g", timeoutMs: 5000 }, maxConcurrent: 2 });
    expect(config).toEqual({ defaults: { memoryLimit: "32m", timeoutMs: 5000 }, maxConcurrent: 2 });
    expect(parseConfig(config).defaults.memoryLimit).toBe("32m");
  });

  test("secrets, logNetwork and image are kept for every request; debug is its own", () => {
    const resolved = resolveEngineOptions({ secrets: { TOKEN: "sk-123456" }, logNetwork: true, image: "my:1", debug: true });
    expect(resolved.request).toEqual({ secrets: { TOKEN: "sk-123456" }, logNetwork: true, image: "my:1" });
    expect(resolved.debug).toBe(true);
    expect(resolved.config).toEqual({});
  });

  test.each<[Record<string, unknown>, string, string]>([
    [{ bogus: 1 }, "bogus", 'Cannot create the engine: unknown option "bogus"'],
    [{ network: "sideways" }, "network", "Cannot create the engine: network: Invalid type"],
    [{ memoryLimit: "12x" }, "memoryLimit", "Cannot create the engine: memoryLimit: "],
    [{ secrets: { A: "abc" } }, "secrets.A", "Cannot create the engine: secrets.A: must be at least 4 bytes"],
    [{ networkFilter: { whitelist: ["x"], other: [] } }, "networkFilter.other", "Cannot create the engine: networkFilter.other: unknown key"],
    [{ readonlyRootFs: false }, "readonlyRootFs", "Cannot create the engine: readonlyRootFs: must be true"],
  ])("%j is refused, naming %s", (options, field, message) => {
    const error = requestError(() => resolveEngineOptions(options));
    expect(error.field).toBe(field);
    expect(error.message.startsWith(message)).toBe(true);
  });

  test("readonlyRootFs: true (always so) is accepted", () => {
    expect(resolveEngineOptions({ readonlyRootFs: true }).config).toEqual({});
  });
});
