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
