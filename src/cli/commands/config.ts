import { defineIsol8Command } from "../command";
import { standardError, standardOutput } from "../std-streams";

const configArgs = {
  json: { type: "boolean", description: "Print the resolved configuration as one JSON document (the files it came from go to stderr)" },
  source: { type: "boolean", description: "Print only the files the configuration came from, one per line, in merge order (nothing for the built-in defaults)" },
} as const;

export default defineIsol8Command({
  meta: { name: "config", description: "Print the resolved configuration and where it came from" },
  args: configArgs,
  run({ flags, config, configSources }) {
    if (flags.source) {
      for (const source of configSources) standardOutput().write(`${source}\n`);
      return 0;
    }
    if (flags.json) {
      // The document itself, so `isol8 config --json | jq .maxConcurrent` works.
      standardError().write(`isol8: config source: ${configSources.length ? configSources.join(" + ") : "(built-in defaults)"}\n`);
      standardOutput().write(`${JSON.stringify(config, null, 2)}\n`);
      return 0;
    }
    standardOutput().write(`source: ${configSources.length ? configSources.join(" + ") : "(built-in defaults)"}\n`);
    for (const [key, value] of flatten(config)) standardOutput().write(`${key} = ${JSON.stringify(value)}\n`);
    return 0;
  },
});

function flatten(value: unknown, prefix = ""): [string, unknown][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [[prefix, value]];
  const entries = Object.entries(value);
  if (entries.length === 0) return [[prefix, value]];
  return entries.flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key));
}
