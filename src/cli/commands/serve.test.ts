import { describe, expect, test } from "bun:test";
import { UsageError } from "../../errors";
import { resolveApiKeys, resolvePort } from "./serve";

describe("resolveApiKeys", () => {
  test.each<[string[], Record<string, string>, string[]]>([
    [["a"], {}, ["a"]],
    [["a", "b"], { ISOL8_API_KEY: "env" }, ["a", "b"]],
    [[], { ISOL8_API_KEY: "env-key" }, ["env-key"]],
    // ISOL8_API_KEY is one key, as clients read it: a comma is part of it.
    [[], { ISOL8_API_KEY: "x,y" }, ["x,y"]],
  ])("--key %p with %p → %p", (flags, env, keys) => {
    expect(resolveApiKeys(flags, env)).toEqual(keys);
  });

  test.each<[string[], Record<string, string>]>([
    [[], {}],
    [[], { ISOL8_API_KEY: "" }],
    [[" padded"], {}],
    [["ok", "trailing "], {}],
  ])("--key %p with %p is a usage error", (flags, env) => {
    expect(() => resolveApiKeys(flags, env)).toThrow(UsageError);
  });
});

describe("resolvePort", () => {
  test("--port, then ISOL8_PORT, then PORT, then 3000", () => {
    expect(resolvePort("1", { ISOL8_PORT: "2", PORT: "3" })).toBe(1);
    expect(resolvePort(undefined, { ISOL8_PORT: "2", PORT: "3" })).toBe(2);
    expect(resolvePort(undefined, { PORT: "3" })).toBe(3);
    expect(resolvePort(undefined, {})).toBe(3000);
    expect(() => resolvePort("x", {})).toThrow(UsageError);
  });
});
