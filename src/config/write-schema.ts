// `npm run schema`: regenerates schema/isol8.config.schema.json from the valibot schema.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { configJsonSchemaText } from "./json-schema";

const target = join(import.meta.dir, "..", "..", "schema", "isol8.config.schema.json");
writeFileSync(target, configJsonSchemaText());
console.log(`wrote ${target}`);
