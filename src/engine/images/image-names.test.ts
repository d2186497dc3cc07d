import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../errors";
import { imageNames } from "./image-names";

describe("imageNames", () => {
  test("the default repository", () => {
    const names = imageNames();
    expect([names.base, names.runtime("python"), names.baked("node", "abc")]).toEqual(["isol8:base", "isol8:python", "isol8-deps:node-abc"]);
  });

  test("another repository keeps every image apart", () => {
    const names = imageNames("registry.local/team/isol8-canary");
    expect([names.base, names.runtime("bash"), names.baked("python", "f00")]).toEqual([
      "registry.local/team/isol8-canary:base",
      "registry.local/team/isol8-canary:bash",
      "registry.local/team/isol8-canary-deps:python-f00",
    ]);
  });

  test.each(["", "Isol8", "isol8:tag", "-x", "a//b", "a b"])("%p is refused with a ConfigError", (repository) => {
    expect(() => imageNames(repository)).toThrow(ConfigError);
  });
});
