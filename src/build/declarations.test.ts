import { describe, expect, test } from "bun:test";
import { withFileExtensions } from "./declarations";

const files = new Set(["./engine.d.ts", "../protocol/execution.d.ts", "./pool/index.d.ts"]);
const exists = (path: string) => files.has(path);

describe("withFileExtensions", () => {
  test.each<[string, string]>([
    ['import { A } from "./engine";', 'import { A } from "./engine.js";'],
    ["export * from '../protocol/execution';", "export * from '../protocol/execution.js';"],
    ['type T = import("../protocol/execution").ExecutionRequest;', 'type T = import("../protocol/execution.js").ExecutionRequest;'],
    ['export { P } from "./pool";', 'export { P } from "./pool/index.js";'],
    ['import type X from "valibot";', 'import type X from "valibot";'],
    ['import { B } from "./engine.js";', 'import { B } from "./engine.js";'],
    ['import pkg from "../package.json";', 'import pkg from "../package.json";'],
  ])("%s", (input, output) => {
    expect(withFileExtensions(input, exists)).toBe(output);
  });

  test("a specifier with no declaration file fails the build, naming it", () => {
    expect(() => withFileExtensions('import { X } from "./missing";', exists)).toThrow('Cannot resolve "./missing" in a declaration file');
  });
});
