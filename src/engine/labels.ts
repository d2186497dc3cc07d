// Every label isol8 puts on Docker objects, and every selector built from them: the only
// place the `org.isol8.` prefix is spelled. Sweeps select by these labels, never by name.
import { VERSION } from "../version";

const PREFIX = "org.isol8.";

/** Every object isol8 creates carries this label. */
export const LABEL_MANAGED = `${PREFIX}managed`;
export const LABEL_VERSION = `${PREFIX}version`;
/** `sandbox`, `image`, `base-os`, `network` or `proxy`. */
export const LABEL_KIND = `${PREFIX}kind`;
/** The engine instance (process) that owns a container; a server removes only its own. */
export const LABEL_OWNER = `${PREFIX}owner`;
export const LABEL_RUNTIME = `${PREFIX}runtime`;
/** Hash of everything an image was built from. */
export const LABEL_INPUTS = `${PREFIX}inputs`;
/** Hash of the supervisor source an image carries: an engine only uses images with its own. */
export const LABEL_SUPERVISOR = `${PREFIX}supervisor`;
/** Package-registry hosts of a runtime image, read from its package manager at setup. */
export const LABEL_REGISTRY_HOSTS = `${PREFIX}registry-hosts`;
/** Free-form scope, e.g. a test run, so parallel users can clean up only their own objects. */
export const LABEL_SCOPE = `${PREFIX}scope`;
/** The process that owns a container (used to reclaim leftovers of dead owners). */
export const LABEL_PID = `${PREFIX}pid`;
/** That process's start time (clock ticks since boot): with the pid, an identity pid reuse cannot fake. */
export const LABEL_PID_START = `${PREFIX}pid-start`;
/** The boot of the machine that process runs on (owners on other machines are never judged). */
export const LABEL_BOOT = `${PREFIX}boot`;
/** The uid a sandbox container runs programs as (one per container). */
export const LABEL_SANDBOX_UID = `${PREFIX}sandbox-uid`;
/** Packages baked into an image (sorted, space-separated). */
export const LABEL_PACKAGES = `${PREFIX}packages`;
/** Debian packages baked into an image (`isol8 build --apt`), sorted, space-separated. */
export const LABEL_APT_PACKAGES = `${PREFIX}apt-packages`;
/** Debian suite of a debootstrap-built base OS image. */
export const LABEL_SUITE = `${PREFIX}suite`;

/** Version of a runtime binary baked into an image (`org.isol8.artifact.<name>`). */
export function artifactLabel(name: string): string {
  return `${PREFIX}artifact.${name}`;
}

export type ObjectKind = "sandbox" | "image" | "base-os" | "network" | "proxy";

/** Labels of a new isol8 object: managed, version, kind, plus the defined extras. */
export function isol8Labels(kind: ObjectKind, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const labels: Record<string, string> = { [LABEL_MANAGED]: "true", [LABEL_VERSION]: VERSION, [LABEL_KIND]: kind };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) labels[key] = value;
  return labels;
}

/** Which isol8 objects a sweep or listing is about; every field narrows it. */
export interface Selection {
  owner?: string;
  scope?: string;
  kind?: ObjectKind;
  pid?: number;
  runtime?: string;
}

/**
 * Docker label filters for isol8 objects, narrowed by the selection: `{ managed: true }` for
 * everything isol8 made, plus owner, scope, kind, pid or runtime. `undefined` values mean
 * "carries the label, any value" (Docker's `label=key` filter).
 */
export function isol8Selector(selection: Selection = {}, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const selector: Record<string, string | undefined> = { [LABEL_MANAGED]: "true" };
  if (selection.owner !== undefined) selector[LABEL_OWNER] = selection.owner;
  if (selection.scope !== undefined) selector[LABEL_SCOPE] = selection.scope;
  if (selection.kind !== undefined) selector[LABEL_KIND] = selection.kind;
  if (selection.pid !== undefined) selector[LABEL_PID] = String(selection.pid);
  if (selection.runtime !== undefined) selector[LABEL_RUNTIME] = selection.runtime;
  return { ...selector, ...extra };
}
