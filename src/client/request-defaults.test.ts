import { describe, expect, test } from "bun:test";
import { RequestError } from "../errors";
import { thrown } from "../../test/thrown";
import { remoteRequestDefaults, withRequestDefaults } from "./request-defaults";

describe("remoteRequestDefaults", () => {
  test("request fields pass; networkFilter becomes allow / deny", () => {
    expect(remoteRequestDefaults({ network: "filtered", memoryLimit: "64m", networkFilter: { whitelist: ["a\\.test"], blacklist: ["b"] } })).toEqual({
      network: "filtered",
      memoryLimit: "64m",
      allow: ["a\\.test"],
      deny: ["b"],
    });
  });

  test("an option that cannot travel with a request is refused, naming it", () => {
    const error = thrown(() => remoteRequestDefaults({ poolSize: 1 }), RequestError);
    expect(error.message).toBe('Cannot create RemoteIsol8: option "poolSize" does not travel with a request');
    expect(error.field).toBe("poolSize");
  });

  test("a bad value is refused as a request would be", () => {
    expect(thrown(() => remoteRequestDefaults({ network: "sideways" }), RequestError).field).toBe("network");
  });
});

describe("withRequestDefaults", () => {
  test.each<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]>([
    ["defaults fill in", { network: "none", timeoutMs: 5 }, { code: "1" }, { code: "1", network: "none", timeoutMs: 5 }],
    ["the request's own fields win", { network: "none" }, { code: "1", network: "host" }, { code: "1", network: "host" }],
    ["secrets merge", { secrets: { A: "aaaa", B: "bbbb" } }, { code: "1", secrets: { B: "cccc" } }, { code: "1", secrets: { A: "aaaa", B: "cccc" } }],
    ["filtered settings only on the filtered network", { allow: ["x"], logNetwork: true }, { code: "1" }, { code: "1" }],
    ["... and there they apply", { allow: ["x"], logNetwork: true }, { code: "1", network: "filtered" }, { code: "1", network: "filtered", allow: ["x"], logNetwork: true }],
  ])("%s", (_, defaults, request, expected) => {
    expect(withRequestDefaults(request as never, defaults)).toEqual(expected as never);
  });
});
