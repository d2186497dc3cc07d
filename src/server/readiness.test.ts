import { describe, expect, test } from "bun:test";
import { createReadiness, type ReadinessProbes } from "./readiness";

function probes(overrides: Partial<ReadinessProbes> = {}) {
  let pings = 0;
  const all: ReadinessProbes = {
    docker: async () => void pings++,
    missingImages: async () => [],
    poolWarmed: () => true,
    closing: () => false,
    ...overrides,
  };
  return { all, pings: () => pings };
}

describe("readiness", () => {
  test.each<[string, Partial<ReadinessProbes>, boolean, string | undefined]>([
    ["all well", {}, true, undefined],
    ["Docker does not answer", { docker: async () => Promise.reject(new Error("Cannot reach Docker: ECONNREFUSED\nhint: start it")) }, false, "docker: Cannot reach Docker: ECONNREFUSED"],
    ["an image is missing", { missingImages: async () => ["isol8:deno"] }, false, "images: missing isol8:deno (run isol8 setup)"],
    ["the pool is warming", { poolWarmed: () => false }, false, "pool: warming up"],
    ["shutting down", { closing: () => true }, false, "server: shutting down"],
  ])("%s", async (_, overrides, ready, reason) => {
    const answer = await createReadiness(probes(overrides).all)();
    expect(answer.ready).toBe(ready);
    expect(answer.reason).toBe(reason);
  });

  test("one answer is reused for a second: probes in a burst cost one check", async () => {
    let now = 0;
    const p = probes();
    const ready = createReadiness(p.all, () => now);
    await Promise.all([ready(), ready(), ready()]);
    expect(p.pings()).toBe(1);
    now = 1_001;
    await ready();
    expect(p.pings()).toBe(2);
  });
});
