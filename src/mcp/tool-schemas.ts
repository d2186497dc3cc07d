// The JSON Schemas MCP clients see: the tools' valibot schemas (tool-inputs.ts) and the
// protocol's result schemas, converted by @valibot/to-json-schema (draft-07, what MCP clients
// validate with). The options a policy does not offer are left out of run_code's schema, so a
// model is not invited to ask for them (asked anyway, they are refused by the policy).
import { type ConversionConfig, toJsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";
import type { NetworkMode } from "../protocol/execution";

type JsonObject = { [key: string]: unknown };

const CONVERSION: ConversionConfig = {
  target: "draft-07",
  // Checks without a JSON Schema form (size caps, custom checks) are enforced by the tools only.
  errorMode: "ignore",
};

/** A valibot schema as a JSON Schema object (no `$schema`: MCP tool schemas are bare objects). */
export function jsonSchemaOf(schema: v.GenericSchema): JsonObject & { type: "object" } {
  const { $schema: _, ...converted } = toJsonSchema(schema, CONVERSION) as JsonObject;
  if (converted.type !== "object") throw new Error("an MCP tool schema must be an object schema");
  return converted as JsonObject & { type: "object" };
}

/** What the policy lets a client choose, for run_code's schema. */
export interface OfferedOptions {
  /** Network modes a client may ask for ("none" always). */
  networkModes: readonly NetworkMode[];
  /** Its own allow patterns for the filtered network. */
  allowPatterns: boolean;
  installs: boolean;
  /** The highest timeoutMs (absent: the protocol's bound). */
  maxTimeoutMs?: number;
}

/** run_code's input schema under a policy: network modes, allow patterns and installs only where offered. */
export function offeredInputSchema(base: JsonObject & { type: "object" }, offered: OfferedOptions): JsonObject & { type: "object" } {
  const properties = { ...(base.properties as Record<string, JsonObject>) };
  if (properties.network) {
    const modes = (properties.network.enum as string[]).filter((mode) => offered.networkModes.includes(mode as NetworkMode));
    if (modes.length > 1) properties.network = { ...properties.network, enum: modes };
    else delete properties.network;
  }
  if (!offered.allowPatterns || !offered.networkModes.includes("filtered")) delete properties.allow;
  if (!offered.installs) delete properties.installPackages;
  if (offered.maxTimeoutMs !== undefined && properties.timeoutMs) properties.timeoutMs = { ...properties.timeoutMs, maximum: offered.maxTimeoutMs };
  return { ...base, properties };
}
