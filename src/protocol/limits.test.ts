import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { LIMIT_NAMES, LIMITS, type LimitValues, limitAboveMaximum } from "./limits";

const defaults = Object.fromEntries(LIMIT_NAMES.map((name) => [name, LIMITS[name].default])) as LimitValues;

describe("the limits table", () => {
  test.each(LIMIT_NAMES)("%s: its default is valid and its flag is kebab-case", (name) => {
    const limit = LIMITS[name] as { schema: v.GenericSchema; default: unknown; flag: string };
    expect(v.safeParse(limit.schema, limit.default).success).toBe(true);
    expect(limit.flag).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  test.each<[string, unknown, boolean]>([
    ["timeoutMs", 0, false],
    ["timeoutMs", 86_400_000, true],
    ["timeoutMs", 86_400_001, false],
    ["timeoutMs", 1.5, false],
    ["cpuLimit", 0.01, true],
    ["cpuLimit", 1024, true],
    ["cpuLimit", 1025, false],
    ["pidsLimit", 4_194_305, false],
    ["memoryLimit", "1024g", true],
    ["memoryLimit", "1025g", false],
    ["memoryLimit", "12x", false],
    ["maxOutputSize", "1k", true],
    ["maxOutputSize", "2g", false],
    ["maxOutputFiles", 0, false],
    ["maxOutputFiles", 10_000, true],
    ["maxOutputFiles", 10_001, false],
    ["maxOutputFileSize", "1g", true],
    ["maxOutputFileSize", "1025m", false],
    ["maxOutputFilesTotal", "4g", true],
    ["maxOutputFilesTotal", "5g", false],
  ])("%s = %p is valid: %p", (name, value, valid) => {
    const limit = LIMITS[name as keyof typeof LIMITS] as { schema: v.GenericSchema };
    expect(v.safeParse(limit.schema, value).success).toBe(valid);
  });

  test("an invalid size is reported once, not also as over the maximum", () => {
    const result = v.safeParse(LIMITS.memoryLimit.schema, "12x");
    expect(result.issues?.length).toBe(1);
  });
});

describe("limitAboveMaximum", () => {
  test.each<[Partial<LimitValues>, string | null]>([
    [{}, null],
    [{ timeoutMs: 30_000 }, null],
    [{ timeoutMs: 30_001 }, "timeoutMs"],
    [{ memoryLimit: "512m" }, null],
    [{ memoryLimit: 536_870_912 }, null],
    [{ memoryLimit: "513m" }, "memoryLimit"],
    [{ memoryLimit: "0.5g" }, null],
    [{ cpuLimit: 1.5 }, "cpuLimit"],
    [{ maxOutputSize: "1m" }, null],
    [{ maxOutputSize: "1025k" }, "maxOutputSize"],
    [{ tmpSize: "1g", pidsLimit: 65 }, "pidsLimit"],
    [{ maxOutputFiles: 65 }, "maxOutputFiles"],
    [{ maxOutputFileSize: "64m" }, null],
    [{ maxOutputFileSize: "65m" }, "maxOutputFileSize"],
    [{ maxOutputFilesTotal: "129m" }, "maxOutputFilesTotal"],
  ])("%j against the defaults → %p", (values, over) => {
    expect<string | null>(limitAboveMaximum(values, defaults)?.name ?? null).toBe(over);
  });
});
