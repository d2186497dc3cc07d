import { describe, expect, test } from "bun:test";
import { ConfigError, UsageError } from "../../errors";
import { thrown } from "../../../test/thrown";
import { bakeRequests } from "./setup";

const none = { python: [], node: [], bun: [], deno: [], bash: [] };

describe("bakeRequests", () => {
  test.each<[string, Record<string, string[]>, Record<string, unknown>, [string, string[]][]]>([
    ["nothing asked", none, {}, []],
    ["config dependencies", { ...none, python: ["numpy"] }, {}, [["python", ["numpy"]]]],
    ["--deno is baked (config plus flag, comma-separated)", { ...none, deno: ["is-odd"] }, { deno: "is-number, lodash" }, [["deno", ["is-odd", "is-number", "lodash"]]]],
    ["each runtime in list order", none, { node: "a", python: "b" }, [["python", ["b"]], ["node", ["a"]]]],
  ])("%s", (_, dependencies, flags, expected) => {
    expect(bakeRequests(dependencies, flags)).toEqual(expected as never);
  });

  test("--bash is refused with a message naming the flag", () => {
    const error = thrown(() => bakeRequests(none, { bash: "jq" }), UsageError);
    expect(error.message).toBe("Cannot bake packages for bash (--bash): bash has no package manager to install them with");
  });

  test("dependencies.bash is refused (a config error), never ignored", () => {
    const error = thrown(() => bakeRequests({ ...none, bash: ["jq"] }, {}), ConfigError);
    expect(error.message).toContain("(dependencies.bash)");
  });
});
