// Flag definitions shared by several commands (spread into a command's args).
import type { ArgsDef } from "citty";
import { LIMIT_NAMES, LIMITS } from "../protocol/limits";
import { RUNTIME_NAMES } from "../runtimes/registry";

export const debugArgs = {
  debug: { type: "boolean", description: "Engine logs (and image build output) on stderr" },
} as const satisfies ArgsDef;

export const forceArgs = {
  force: { type: "boolean", description: "Rebuild even when up to date" },
} as const satisfies ArgsDef;

/** `--runtime`: one of the built-in runtimes. */
export const runtimeArgs = {
  runtime: { type: "string", alias: "r", description: RUNTIME_NAMES.join(" | ") },
} as const satisfies ArgsDef;

/** `--host`, `--key`, `--session-id`: run on an isol8 server instead of local Docker. */
export const remoteArgs = {
  host: { type: "string", description: "Run on an isol8 server at this URL instead of local Docker" },
  key: { type: "string", description: "API key for --host (default: $ISOL8_API_KEY)" },
  "session-id": { type: "string", description: "With --host: run in this server session (files persist)" },
} as const satisfies ArgsDef;

/** One string flag per execution limit (`--timeout`, `--memory`, ...), from the limits table. */
export const limitArgs: ArgsDef = Object.fromEntries(
  LIMIT_NAMES.map((name) => [LIMITS[name].flag, { type: "string", description: LIMITS[name].description }]),
);
