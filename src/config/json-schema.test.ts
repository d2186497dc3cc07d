import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { configJsonSchema, configJsonSchemaText } from "./json-schema";

const SCHEMA_FILE = join(import.meta.dir, "..", "..", "schema", "isol8.config.schema.json");

describe("schema/isol8.config.schema.json", () => {
  test("matches the valibot schema (run `npm run schema` after changing src/config/schema.ts)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(configJsonSchemaText());
  });

  test("is a JSON Schema of an object that refuses unknown keys", () => {
    const schema = configJsonSchema();
    expect(schema.type).toBe("object");
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties as object)).toContain("defaults");
  });

  test("shows the defaults", () => {
    const schema = configJsonSchema() as { properties: Record<string, { default?: unknown }> };
    expect(schema.properties.maxConcurrent?.default).toBe(10);
  });
});

describe("every key is documented", () => {
  /** Paths of properties (at any depth, through unions) that carry no description. */
  function undocumented(schema: unknown, path = ""): string[] {
    if (typeof schema !== "object" || schema === null) return [];
    const node = schema as { properties?: Record<string, { description?: string }>; anyOf?: unknown[]; items?: unknown };
    const missing: string[] = [];
    for (const [key, property] of Object.entries(node.properties ?? {})) {
      const at = path ? `${path}.${key}` : key;
      if (!property.description) missing.push(at);
      missing.push(...undocumented(property, at));
    }
    for (const option of node.anyOf ?? []) missing.push(...undocumented(option, path));
    return missing;
  }

  test("every property of schema/isol8.config.schema.json has a description", () => {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, "utf8"));
    expect(Object.keys(schema.properties).length).toBeGreaterThan(10);
    expect(undocumented(schema)).toEqual([]);
  });
});
