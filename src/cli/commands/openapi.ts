import { openApiDocument } from "../../server/openapi";
import { VERSION } from "../../version";
import { defineIsol8Command } from "../command";
import { standardOutput } from "../std-streams";

export default defineIsol8Command({
  meta: { name: "openapi", description: "Print the HTTP API's OpenAPI 3.1 description (as served at GET /openapi.json)" },
  args: {},
  config: false,
  run() {
    standardOutput().write(`${JSON.stringify(openApiDocument({ version: VERSION }), null, 2)}\n`);
    return 0;
  },
});
