import { defineIsol8Command } from "../command";

const configArgs = {
  json: { type: "boolean", description: "Print exactly one JSON document" },
} as const;

export default defineIsol8Command({
  meta: { name: "config", description: "Print the resolved configuration and where it came from" },
  args: configArgs,
  run({ flags, config, configSource, configSources }) {
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ source: configSource, sources: configSources, config }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`source: ${configSources.length ? configSources.join(" + ") : "(built-in defaults)"}\n`);
    for (const [key, value] of flatten(config)) process.stdout.write(`${key} = ${JSON.stringify(value)}\n`);
    return 0;
  },
});

function flatten(value: unknown, prefix = ""): [string, unknown][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [[prefix, value]];
  const entries = Object.entries(value);
  if (entries.length === 0) return [[prefix, value]];
  return entries.flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key));
}
