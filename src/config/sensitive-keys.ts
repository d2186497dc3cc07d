// Which config keys a file found in the working directory may not set. Such a file comes with
// whatever repository you cd into, so it may tune how much a run may use, but it may not widen
// what a run can reach, weaken the sandbox, change what every later run's images hold, undo
// an audit log your own configuration keeps, or start a program on the host. Every leaf key of
// the config schema appears in exactly one of the two tables below (sensitive-keys.test.ts
// fails when a new key is not classified). Pure.
import { LIMIT_NAMES } from "../protocol/limits";
import type { Isol8Config } from "./schema";

export interface SensitiveKey {
  /** Dotted path of the key (a section path covers every key under it). */
  key: string;
  /**
   * True when `value` (the merged config with the untrusted file) loosens what `trusted` (the
   * same key without that file: defaults and your own files) says.
   */
  loosens(value: unknown, trusted: unknown): boolean;
  /** What the key would do, for the error message. */
  reason: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const differs = (value: unknown, trusted: unknown) => !same(value, trusted);
/** A list that holds an item the trusted list does not. */
const adds = (value: unknown, trusted: unknown) => {
  const known = new Set((trusted as unknown[]).map((item) => JSON.stringify(item)));
  return (value as unknown[]).some((item) => !known.has(JSON.stringify(item)));
};
const turnsOn = (value: unknown, trusted: unknown) => value === true && trusted !== true;
const turnsOff = (value: unknown, trusted: unknown) => value === false && trusted === true;
const raises = (value: unknown, trusted: unknown) => (value as number) > (trusted as number);
const lowers = (value: unknown, trusted: unknown) => (value as number) < (trusted as number);
/** A value ranked above the trusted one (`order` lists values from the tightest). */
const ranksAbove = (order: readonly string[]) => (value: unknown, trusted: unknown) =>
  order.indexOf(String(value)) > order.indexOf(String(trusted));
/** A record with an entry that is new or maps to something else. */
const changesEntries = (value: unknown, trusted: unknown) =>
  Object.entries(value as Record<string, unknown>).some(([name, entry]) => !same(entry, (trusted as Record<string, unknown>)[name]));
/** A section of lists (dependencies) with an item the trusted list of the same name lacks. */
const addsInAnyList = (value: unknown, trusted: unknown) =>
  Object.entries(value as Record<string, unknown[]>).some(([name, list]) => adds(list, (trusted as Record<string, unknown[]>)[name] ?? []));

/** The keys an untrusted file may not loosen, each with why. */
export const SENSITIVE_KEYS: readonly SensitiveKey[] = [
  {
    key: "security.seccomp",
    loosens: ranksAbove(["strict", "custom", "unconfined"]),
    reason: "replaces the strict seccomp allowlist of every execution: custom with a profile file, unconfined with none",
  },
  {
    key: "security.runtime",
    loosens: ranksAbove(["gvisor", "runc"]),
    reason: "drops gVisor, the second isolation boundary your configuration puts around every execution",
  },
  {
    key: "security.pythonZygote",
    loosens: turnsOn,
    reason: "forks every python program from an interpreter that lives as long as its container, which your configuration turns off",
  },
  {
    key: "security.standbyPrograms",
    loosens: turnsOn,
    reason: "starts node and bun programs ahead of their executions, which your configuration turns off",
  },
  {
    key: "security.directChannel",
    loosens: turnsOn,
    reason: "bind-mounts a host directory holding the engine's control socket into every container, which your configuration turns off",
  },
  { key: "security.customProfilePath", loosens: differs, reason: "names the seccomp profile executions run under" },
  {
    key: "defaults.network",
    loosens: ranksAbove(["none", "filtered", "host"]),
    reason: "widens the network of every execution that names none (host: the host's own network, no proxy)",
  },
  { key: "server.mcp.images", loosens: changesEntries, reason: "runs the MCP sandboxes on images your configuration does not name" },
  { key: "network.whitelist", loosens: adds, reason: "adds hosts every filtered execution may reach" },
  { key: "network.allowedPorts", loosens: adds, reason: "adds ports the proxy connects to (SSH, SMTP, databases on allowed hosts)" },
  { key: "network.allowedCidrs", loosens: adds, reason: "lets the proxy connect into internal address ranges (your network, cloud metadata)" },
  { key: "network.hosts", loosens: changesEntries, reason: "points host names at addresses the file chooses, before DNS" },
  { key: "audit.enabled", loosens: turnsOff, reason: "turns off the audit log your own configuration turns on" },
  { key: "audit.required", loosens: turnsOff, reason: "lets executions run when no audit record can be written" },
  { key: "audit.destination", loosens: differs, reason: "sends audit records elsewhere than your configuration says" },
  { key: "audit.logDir", loosens: differs, reason: "writes audit files (and deletes old ones) in a host directory the file chooses" },
  { key: "audit.retentionDays", loosens: lowers, reason: "deletes audit files sooner than your configuration keeps them" },
  { key: "audit.postLogScript", loosens: differs, reason: "a program isol8 starts on the host, outside any sandbox" },
  { key: "server.allowHostNetwork", loosens: turnsOn, reason: "lets server clients run with the host's network" },
  { key: "server.allowClientNetworkPatterns", loosens: turnsOn, reason: "lets server clients widen the filtered network" },
  { key: "server.allowedImages", loosens: adds, reason: "lets server clients run images isol8 did not build" },
  { key: "server.authFailureLimit", loosens: raises, reason: "allows more wrong keys per address before the server throttles it (key guessing)" },
  { key: "server.authFailureWindowMs", loosens: lowers, reason: "forgets wrong keys sooner, so an address may guess more keys (key guessing)" },
  {
    key: "security.sandboxUids",
    loosens: differs,
    reason: "chooses the host uids sandboxed programs run as (they must belong to no host user)",
  },
  { key: "server.metricsToken", loosens: differs, reason: "a second credential that reads the server's metrics (whoever knows the file knows it)" },
  { key: "server.corsOrigins", loosens: adds, reason: "lets pages of other origins call the API from a browser" },
  { key: "server.allowInstalls", loosens: turnsOn, reason: "lets server clients install packages (the registries are reached during the install)" },
  { key: "server.database.url", loosens: differs, reason: "the database the server takes its API keys from: whoever chooses it chooses who may use the server" },
  { key: "server.database.path", loosens: differs, reason: "the file the server takes its API keys from: whoever chooses it chooses who may use the server" },
  { key: "server.advertiseUrl", loosens: differs, reason: "where other instances send requests (with their keys) for sessions held here" },
  { key: "images.baseImage", loosens: differs, reason: "the image every sandbox image is built from (images are shared by every later run)" },
  { key: "images.hostCaCertificates", loosens: differs, reason: "changes which certificate authorities every sandbox image trusts" },
  { key: "images.caCertificateFiles", loosens: adds, reason: "reads host files into every sandbox image and makes it trust them" },
  {
    key: "dependencies",
    loosens: addsInAnyList,
    reason: "packages isol8 setup installs while building an image: their install scripts run in a Docker build, outside the sandbox and the proxy",
  },
];

/** Every other key, with why a file found in the working directory may set it. */
export const UNRESTRICTED_KEYS: Readonly<Record<string, string>> = {
  $schema: "an editor hint",
  debug: "engine logs and image build output on stderr: more to read, not more reach",
  maxConcurrent: "how many runs at once on this machine: cost, not reach",
  ...Object.fromEntries(LIMIT_NAMES.map((name) => [`defaults.${name}`, "a limit of each run: cost (bounded by the limits table), not reach"])),
  "network.blacklist": "only refuses hosts",
  "network.proxyPort": "a port inside the sandbox",
  poolStrategy: "both strategies wipe and verify a container before it is reused",
  poolSize: "how many warm containers: cost, not reach",
  cleanup: "container lifetimes: cost, not reach",
  contexts: "how many interpreters, their sizes and timeouts: cost, not reach",
  "audit.includeCode": "records more in the audit log, which stays where your configuration puts it",
  "audit.includeOutput": "records more in the audit log, which stays where your configuration puts it",
  "server.maxBodySize": "a size limit: cost, not reach",
  "server.maxQueue": "a queue length: cost, not reach",
  "server.shutdownGraceMs": "a wait on shutdown",
  "server.maxFileSize": "a size limit: cost, not reach",
  "server.maxSessions": "a count limit: cost, not reach",
  "server.maxContextsPerSession": "a count limit: cost, not reach",
  "server.mcp.keepAliveMs": "how long an MCP session outlives its client: cost, not reach",
  "server.maxRequestsInFlight": "a count limit: cost, not reach",
  // Raising a connection cap lets more clients (or one abusive client) hold connections: the
  // server's file descriptors and memory, like maxRequestsInFlight. Keys are still checked and
  // failures throttled on every connection, so a higher cap reaches nothing new.
  "server.maxConnections": "a count limit: cost, not reach (every connection still needs a key)",
  "server.maxConnectionsPerAddress": "a count limit: cost, not reach (every connection still needs a key)",
  "server.maxUnauthenticatedConnections": "a count limit: cost, not reach (a connection without a key reaches only the open routes)",
  "server.logFormat": "how log lines look",
  "server.logLevel": "how much the server logs, to its own stderr",
  "server.streamResumeMs": "how long a dropped stream's program keeps running: cost, not reach",
  "server.playground": "a page that holds no key: users type theirs",
  "server.idleTimeoutMs": "how long an idle connection stays open: cost, not reach",
  "server.limits": "the highest limits clients may ask for: cost, not reach",
};

/** The value at a dotted path. */
function at(config: unknown, key: string): unknown {
  return key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], config);
}

export interface LooseningKey {
  key: string;
  value: unknown;
  reason: string;
}

/**
 * The sensitive keys whose value in `candidate` (the merged config with an untrusted file)
 * loosens what `trusted` (the config without it) says, in table order. Pure.
 */
export function looseningKeys(candidate: Isol8Config, trusted: Isol8Config): LooseningKey[] {
  return SENSITIVE_KEYS.filter((entry) => entry.loosens(at(candidate, entry.key), at(trusted, entry.key))).map((entry) => ({
    key: entry.key,
    value: at(candidate, entry.key),
    reason: entry.reason,
  }));
}
