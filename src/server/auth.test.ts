import { describe, expect, test } from "bun:test";
import { createKeyCheck, createTokenCheck, principalOf } from "./auth";

describe("createKeyCheck", () => {
  const check = createKeyCheck(["alpha-key", "beta-key"]);

  test.each<[string | null, unknown]>([
    [null, { status: 401 }],
    ["", { status: 401 }],
    ["Basic YWxhZGRpbjpvcGVu", { status: 401 }],
    ["Bearer", { status: 401 }],
    ["Bearer ", { status: 401 }],
    ["Bearer wrong", { status: 403 }],
    ["Bearer alpha-keyx", { status: 403 }],
    ["Bearer alpha-key", { principal: principalOf("alpha-key") }],
    ["bearer   beta-key  ", { principal: principalOf("beta-key") }],
  ])("%p → %p", (header, verdict) => {
    expect(check(header)).toEqual(verdict as ReturnType<typeof check>);
  });

  test("each key is its own principal; the principal never contains the key", () => {
    expect(principalOf("alpha-key")).not.toBe(principalOf("beta-key"));
    expect(principalOf("alpha-key")).toMatch(/^key:[0-9a-f]{12}$/);
    expect(principalOf("alpha-key")).not.toContain("alpha");
  });

  test("no key, or an empty one, is refused when the check is made", () => {
    expect(() => createKeyCheck([])).toThrow("an API key is required");
    expect(() => createKeyCheck(["ok", ""])).toThrow("an API key is required");
  });

  test("a key given twice is one principal", () => {
    expect(createKeyCheck(["same", "same"])("Bearer same")).toEqual({ principal: principalOf("same") });
  });
});

describe("a single-route token", () => {
  test.each([
    ["Bearer metrics-token-0123456789", true],
    ["bearer   metrics-token-0123456789  ", true],
    ["Bearer metrics-token-012345678", false],
    ["metrics-token-0123456789", false],
    [null, false],
  ] as const)("%p → %p", (header, accepted) => {
    expect(createTokenCheck("metrics-token-0123456789")(header)).toBe(accepted);
  });

  test("no token configured: nothing passes", () => {
    expect(createTokenCheck(undefined)("Bearer anything")).toBe(false);
  });
});
