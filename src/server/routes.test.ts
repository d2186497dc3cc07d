import { describe, expect, test } from "bun:test";
import { createRouter, templatePattern } from "./routes";

describe("routes", () => {
  test.each([
    ["/health", "/health", true],
    ["/health", "/healthz", false],
    ["/session/{id}", "/session/abc", true],
    ["/session/{id}", "/session/a/b", false],
    ["/session/{id}", "/session/", false],
    ["/openapi.json", "/openapiXjson", false],
  ])("%s matches %s: %p", (template, path, matches) => {
    expect(templatePattern(template).test(path)).toBe(matches);
  });

  test("route, 405 with the path's methods, or 404", () => {
    const match = createRouter([
      { method: "POST", path: "/execute" },
      { method: "GET", path: "/file" },
      { method: "POST", path: "/file" },
      { method: "DELETE", path: "/session/{id}" },
    ]);
    expect(match("POST", "/execute")).toEqual({ route: { method: "POST", path: "/execute" }, params: {} });
    expect(match("GET", "/execute")).toEqual({ allow: ["POST"] });
    expect(match("PUT", "/file")).toEqual({ allow: ["GET", "POST"] });
    expect(match("DELETE", "/session/a%20b")).toEqual({ route: { method: "DELETE", path: "/session/{id}" }, params: { id: "a%20b" } });
    expect(match("GET", "/nope")).toBeNull();
  });
});
