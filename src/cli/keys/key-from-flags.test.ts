import { describe, expect, test } from "bun:test";
import { UsageError } from "../../errors";
import { keyFromFlags } from "./key-from-flags";

describe("isol8 keys create: flags → POST /keys body", () => {
  test.each<[string, Record<string, string | string[] | boolean | undefined>, unknown]>([
    ["a name alone: no policy, no quotas", { name: "t" }, { name: "t", policy: {}, quotas: {} }],
    ["quotas", { name: "t", "max-concurrent": "1", "requests-per-minute": "60", "cpu-seconds-per-day": "3600", "max-sessions": "2" }, {
      name: "t",
      policy: {},
      quotas: { maxConcurrent: 1, requestsPerMinute: 60, cpuSecondsPerDay: 3600, maxSessions: 2 },
    }],
    ["limits by the run flags", { name: "t", memory: "256m", timeout: "5000" }, { name: "t", policy: { limits: { memoryLimit: "256m", timeoutMs: 5000 } }, quotas: {} }],
    ["networks and images, repeated ones once", { name: "t", network: ["none", "filtered", "none"], image: ["img"] }, {
      name: "t",
      policy: { networks: ["none", "filtered"], allowedImages: ["img"] },
      quotas: {},
    }],
    ["--no-installs, --no-network-patterns, --seccomp", { name: "t", installs: false, "network-patterns": false, seccomp: "strict" }, {
      name: "t",
      policy: { allowInstalls: false, allowClientNetworkPatterns: false, seccomp: "strict" },
      quotas: {},
    }],
    ["--installs (true) adds nothing: a key cannot widen", { name: "t", installs: true }, { name: "t", policy: {}, quotas: {} }],
  ])("%s", (_, flags, body) => {
    expect(keyFromFlags(flags)).toEqual(body as never);
  });

  test.each<[string, Record<string, string | string[] | boolean | undefined>, string]>([
    ["no name", {}, "Cannot create a key without a name"],
    ["a bad name", { name: "a b" }, 'Cannot create key "a b": name: must be 1-64 characters'],
    ["a quota of 0", { name: "t", "max-concurrent": "0" }, 'Cannot use --max-concurrent "0": expected a whole number of at least 1'],
    ["a quota that is not a number", { name: "t", "max-sessions": "many" }, 'Cannot use --max-sessions "many"'],
    ["an unknown network mode", { name: "t", network: ["wide"] }, 'Cannot create key "t": policy.networks.0'],
    ["a bad size", { name: "t", memory: "lots" }, 'policy.limits.memoryLimit: expected a size'],
  ])("%s: refused, naming it", (_, flags, message) => {
    let error: unknown;
    try {
      keyFromFlags(flags);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(message);
  });
});
