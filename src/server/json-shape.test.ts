import { describe, expect, test } from "bun:test";
import { jsonShapeProblem } from "./json-shape";

const bytes = (text: string) => new TextEncoder().encode(text);
const limits = { maxValues: 10, maxDepth: 3 };

describe("jsonShapeProblem", () => {
  test.each<[string, string, string | null]>([
    ["a small request", '{"request":{"code":"print(1)"}}', null],
    ["ten values", '{"a":1,"b":2,"c":3,"d":4,"e":5}', null],
    ["eleven values", '{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}', "more than 10 JSON values"],
    ["a long list", "[1,2,3,4,5,6,7,8,9,10,11]", "more than 10 JSON values"],
    ["structural characters inside strings do not count", '{"code":"{[,:]},,,,,,,,,,,,,,::::::::[[[[["}', null],
    ["an escaped quote does not end the string", '{"code":"\\",,,,,,,,,,,,,,,,,,\\"[[[["}', null],
    ["an escaped backslash before the closing quote", '{"a":"x\\\\","b":[[[[1]]]]}', "nested more than 3 levels deep"],
    ["three levels", '{"a":{"b":[1]}}', null],
    ["four levels", '{"a":{"b":[[1]]}}', "nested more than 3 levels deep"],
    ["not JSON at all is left to JSON.parse", "not json", null],
  ])("%s", (_name, text, problem) => {
    const found = jsonShapeProblem(bytes(text), limits);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });

  test("a million env entries are refused by the default limits, a thousand are not", () => {
    const env = (n: number) => `{"request":{"code":"1","env":{${Array.from({ length: n }, (_, i) => `"K${i}":""`).join(",")}}}}`;
    expect(jsonShapeProblem(bytes(env(1_000_000)))).toContain("more than 100000 JSON values");
    expect(jsonShapeProblem(bytes(env(1000)))).toBeNull();
  });
});
