import { toJsonSchema } from "@valibot/to-json-schema";
import { ConfigSchema } from "./schema";

/** The JSON Schema of the config file, generated from the valibot schema (single source). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = toJsonSchema(ConfigSchema, { errorMode: "ignore" }) as Record<string, unknown>;
  return {
    ...schema,
    $id: "https://isol8.dev/schema/isol8.config.schema.json",
    title: "isol8 configuration",
    description: "isol8.config.json / ~/.isol8/config.json. Every key is optional; missing keys take the defaults shown.",
  };
}

/** The text written to schema/isol8.config.schema.json. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
