// The runtimes under the names isol8 0.x exported (`RuntimeRegistry.list()`, `PythonAdapter`):
// the built-in definitions and a registry over them. Data only, nothing filled at import time.
import { bash } from "./bash";
import { bun } from "./bun";
import { deno } from "./deno";
import { node } from "./node";
import { python } from "./python";
import { createRuntimeRegistry, type RuntimeRegistry as Registry } from "./registry";

export const PythonAdapter = python;
export const NodeAdapter = node;
export const BunAdapter = bun;
export const DenoAdapter = deno;
export const BashAdapter = bash;

/** The built-in runtimes: `list()`, `get(name)`, `detect(file)`; `register()` refuses runtimes isol8 cannot run. */
export const RuntimeRegistry: Registry = createRuntimeRegistry();
export type RuntimeRegistry = Registry;
