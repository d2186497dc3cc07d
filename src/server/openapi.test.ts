import { describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { call, makeApp } from "../../test/server-fixtures";
import { OPERATIONS, openApiDocument } from "./openapi";

describe("OpenAPI", () => {
  test("GET /openapi.json passes an OpenAPI 3.1 validator, every $ref resolving", async () => {
    const { app } = makeApp();
    const response = await call(app, "GET", "/openapi.json", undefined, null);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Record<string, unknown>;
    expect(document.openapi).toBe("3.1.0");
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  test("every route of the app is documented, and every documented route is a route of the app", () => {
    const { app } = makeApp();
    const routes = app.routes.map((r) => `${r.method} ${r.path}`).sort();
    expect(Object.keys(OPERATIONS).sort()).toEqual(routes);
  });

  test("open routes need no key in the document exactly when the app lets them through without one", async () => {
    const { app } = makeApp();
    const paths = openApiDocument({ version: "1" }).paths as Record<string, Record<string, { security: unknown[] }>>;
    for (const route of app.routes) {
      const documented = paths[route.path]![route.method.toLowerCase()]!;
      expect({ route: `${route.method} ${route.path}`, open: documented.security.length === 0 }).toEqual({ route: `${route.method} ${route.path}`, open: Boolean(route.open) });
    }
  });

  test("error bodies are the one error schema, with every code", () => {
    const schemas = (openApiDocument({ version: "1" }).components as { schemas: Record<string, { properties: { error: { properties: { code: { enum: string[] } } } } }> }).schemas;
    expect(schemas.Error!.properties.error.properties.code.enum).toContain("method-not-allowed");
    expect(schemas.Error!.properties.error.properties.code.enum).toContain("file-refused");
  });
});
