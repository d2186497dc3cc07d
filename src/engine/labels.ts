import { VERSION } from "../version";

/** Every object isol8 creates carries this label; sweeps select by it, never by name. */
export const LABEL_MANAGED = "org.isol8.managed";
export const LABEL_VERSION = "org.isol8.version";
/** `sandbox`, `image`, `base-os`, `network` or `proxy`. */
export const LABEL_KIND = "org.isol8.kind";
/** The engine instance (process) that owns a container; a server removes only its own. */
export const LABEL_OWNER = "org.isol8.owner";
export const LABEL_RUNTIME = "org.isol8.runtime";
/** Hash of everything an image was built from. */
export const LABEL_INPUTS = "org.isol8.inputs";
/** Hash of the supervisor source an image carries: an engine only uses images with its own. */
export const LABEL_SUPERVISOR = "org.isol8.supervisor";
/** Package-registry hosts of a runtime image, read from its package manager at setup. */
export const LABEL_REGISTRY_HOSTS = "org.isol8.registry-hosts";
/** Free-form scope, e.g. a test run, so parallel users can clean up only their own objects. */
export const LABEL_SCOPE = "org.isol8.scope";
/** The process that owns a container (used to reclaim leftovers of dead owners). */
export const LABEL_PID = "org.isol8.pid";

export type ObjectKind = "sandbox" | "image" | "base-os" | "network" | "proxy";

export function isol8Labels(kind: ObjectKind, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const labels: Record<string, string> = { [LABEL_MANAGED]: "true", [LABEL_VERSION]: VERSION, [LABEL_KIND]: kind };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) labels[key] = value;
  return labels;
}
