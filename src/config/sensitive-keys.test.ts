import { describe, expect, test } from "bun:test";
import { configJsonSchema } from "./json-schema";
import { parseConfig } from "./load";
import { deepMerge } from "./merge";
import { defaultConfig } from "./schema";
import { looseningKeys, SENSITIVE_KEYS, UNRESTRICTED_KEYS } from "./sensitive-keys";

/** Every leaf key of the config's JSON Schema (a key without `properties` of its own). */
function leafKeys(schema: Record<string, unknown>, prefix = ""): string[] {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!properties) return [prefix];
  return Object.entries(properties).flatMap(([name, inner]) => leafKeys(inner, prefix ? `${prefix}.${name}` : name));
}

const covers = (entry: string, key: string) => key === entry || key.startsWith(`${entry}.`);

describe("the sensitive-key tables", () => {
  const sensitive = SENSITIVE_KEYS.map((entry) => entry.key);
  const unrestricted = Object.keys(UNRESTRICTED_KEYS);

  test.each(leafKeys(configJsonSchema()))("%s is classified exactly once", (key) => {
    const matches = [...sensitive, ...unrestricted].filter((entry) => covers(entry, key));
    expect(matches).toHaveLength(1);
  });

  test("every entry names a key of the schema, with a reason", () => {
    const leaves = leafKeys(configJsonSchema());
    for (const entry of [...sensitive, ...unrestricted]) expect(leaves.some((key) => covers(entry, key))).toBe(true);
    for (const entry of SENSITIVE_KEYS) expect(entry.reason.length).toBeGreaterThan(10);
  });

  test("the built-in defaults loosen nothing", () => {
    expect(looseningKeys(defaultConfig(), defaultConfig())).toEqual([]);
  });
});

/** [name, what the untrusted file sets, what the trusted layers set (default: nothing), loosened keys]. */
const cases: [string, Record<string, unknown>, Record<string, unknown>, string[]][] = [
  ["seccomp unconfined", { security: { seccomp: "unconfined" } }, {}, ["security.seccomp"]],
  ["seccomp custom with a profile", { security: { seccomp: "custom", customProfilePath: "/p.json" } }, {}, ["security.seccomp", "security.customProfilePath"]],
  ["seccomp strict over a trusted unconfined: tighter", { security: { seccomp: "strict" } }, { security: { seccomp: "unconfined" } }, []],
  ["seccomp unconfined, as the trusted file already says", { security: { seccomp: "unconfined" } }, { security: { seccomp: "unconfined" } }, []],
  ["runc under a trusted gvisor", { security: { runtime: "runc" } }, { security: { runtime: "gvisor" } }, ["security.runtime"]],
  ["gvisor: tighter", { security: { runtime: "gvisor" } }, {}, []],
  ["the python zygote on under a trusted off", { security: { pythonZygote: true } }, { security: { pythonZygote: false } }, ["security.pythonZygote"]],
  ["the python zygote off: tighter", { security: { pythonZygote: false } }, {}, []],
  ["the python zygote on, as by default", { security: { pythonZygote: true } }, {}, []],
  ["standby programs on under a trusted off", { security: { standbyPrograms: true } }, { security: { standbyPrograms: false } }, ["security.standbyPrograms"]],
  ["standby programs off: tighter", { security: { standbyPrograms: false } }, {}, []],
  ["host network by default", { defaults: { network: "host" } }, {}, ["defaults.network"]],
  ["filtered network by default", { defaults: { network: "filtered" } }, {}, ["defaults.network"]],
  ["none over a trusted filtered: tighter", { defaults: { network: "none" } }, { defaults: { network: "filtered" } }, []],
  ["a whitelisted host", { network: { whitelist: ["evil.test"] } }, {}, ["network.whitelist"]],
  ["a subset of the trusted whitelist", { network: { whitelist: ["a.test"] } }, { network: { whitelist: ["a.test", "b.test"] } }, []],
  ["a blacklist", { network: { blacklist: [".*"] } }, {}, []],
  ["port 22", { network: { allowedPorts: [443, 22] } }, {}, ["network.allowedPorts"]],
  ["only port 443: tighter", { network: { allowedPorts: [443] } }, {}, []],
  ["an internal range", { network: { allowedCidrs: ["10.0.0.0/8"] } }, {}, ["network.allowedCidrs"]],
  ["a static host entry", { network: { hosts: { "api.test": "203.0.113.9" } } }, {}, ["network.hosts"]],
  ["the trusted host entry again", { network: { hosts: { "api.test": "1.2.3.4" } } }, { network: { hosts: { "api.test": "1.2.3.4" } } }, []],
  ["a trusted host entry pointed elsewhere", { network: { hosts: { "api.test": "203.0.113.9" } } }, { network: { hosts: { "api.test": "1.2.3.4" } } }, ["network.hosts"]],
  ["the proxy port", { network: { proxyPort: 9000 } }, {}, []],
  ["a post-log script", { audit: { postLogScript: "./x.sh" } }, {}, ["audit.postLogScript"]],
  ["audit turned off under a trusted audit", { audit: { enabled: false, required: false } }, { audit: { enabled: true, required: true } }, ["audit.enabled", "audit.required"]],
  ["audit turned on: tighter", { audit: { enabled: true, required: true } }, {}, []],
  ["the audit directory", { audit: { logDir: "/home/u/.ssh" } }, {}, ["audit.logDir"]],
  ["the audit destination", { audit: { destination: "stdout" } }, {}, ["audit.destination"]],
  ["a shorter retention", { audit: { retentionDays: 1 } }, {}, ["audit.retentionDays"]],
  ["a longer retention", { audit: { retentionDays: 90 } }, {}, []],
  ["recording the code", { audit: { includeCode: true, includeOutput: true } }, {}, []],
  ["server clients on the host network", { server: { allowHostNetwork: true } }, {}, ["server.allowHostNetwork"]],
  ["server clients' own patterns", { server: { allowClientNetworkPatterns: true } }, {}, ["server.allowClientNetworkPatterns"]],
  ["server clients' images", { server: { allowedImages: ["evil/image"] } }, {}, ["server.allowedImages"]],
  ["server clients' installs", { server: { allowInstalls: true } }, {}, ["server.allowInstalls"]],
  ["an image for the MCP sandboxes", { server: { mcp: { images: { python: "evil/python" } } } }, {}, ["server.mcp.images"]],
  ["the MCP image the trusted file names", { server: { mcp: { images: { python: "data/python" } } } }, { server: { mcp: { images: { python: "data/python" } } } }, []],
  ["a trusted MCP image pointed elsewhere", { server: { mcp: { images: { python: "evil/python" } } } }, { server: { mcp: { images: { python: "data/python" } } } }, ["server.mcp.images"]],
  ["the MCP keep-alive", { server: { mcp: { keepAliveMs: 1_000 } } }, {}, []],
  ["more wrong keys before the throttle", { server: { authFailureLimit: 1000 } }, {}, ["server.authFailureLimit"]],
  ["a shorter throttle window", { server: { authFailureWindowMs: 1000 } }, {}, ["server.authFailureWindowMs"]],
  ["a stricter throttle: tighter", { server: { authFailureLimit: 5, authFailureWindowMs: 600_000 } }, {}, []],
  ["other sandbox uids", { security: { sandboxUids: { from: 1000, to: 2000 } } }, {}, ["security.sandboxUids"]],
  ["a metrics token", { server: { metricsToken: "0123456789abcdef0123" } }, {}, ["server.metricsToken"]],
  ["a CORS origin", { server: { corsOrigins: ["https://evil.test"] } }, {}, ["server.corsOrigins"]],
  ["logs, resume window and playground", { server: { logFormat: "json", logLevel: "debug", streamResumeMs: 0, playground: false } }, {}, []],
  ["connection limits", { server: { idleTimeoutMs: 5000, maxRequestsInFlight: 10_000 } }, {}, []],
  ["connection caps raised", { server: { maxConnections: 100_000, maxConnectionsPerAddress: 100_000, maxUnauthenticatedConnections: 100_000 } }, {}, []],
  ["server size limits", { server: { maxBodySize: "1m", maxQueue: 5, limits: { timeoutMs: 60_000 } } }, {}, []],
  ["the base image", { images: { baseImage: "evil/debian" } }, {}, ["images.baseImage"]],
  ["extra CA files", { images: { caCertificateFiles: ["/etc/evil.pem"] } }, {}, ["images.caCertificateFiles"]],
  ["host CA certificates off", { images: { hostCaCertificates: false } }, {}, ["images.hostCaCertificates"]],
  ["baked packages", { dependencies: { python: ["numpy"] } }, {}, ["dependencies"]],
  ["baked packages the trusted file lists", { dependencies: { python: ["numpy"] } }, { dependencies: { python: ["numpy", "pandas"] } }, []],
  ["limits, pool and lifetimes", { maxConcurrent: 2, defaults: { memoryLimit: "2g", timeoutMs: 60_000 }, poolSize: 0, poolStrategy: "secure", cleanup: { maxContainerAgeMs: 1000 } }, {}, []],
];

describe("looseningKeys", () => {
  test.each(cases)("%s", (_, untrusted, trustedDocument, expected) => {
    const trusted = parseConfig(trustedDocument);
    const merged = parseConfig(deepMerge(trustedDocument, untrusted));
    expect(looseningKeys(merged, trusted).map((k) => k.key)).toEqual(expected);
  });

  test("each finding carries the value and the reason", () => {
    const [finding] = looseningKeys(parseConfig({ audit: { postLogScript: "./x.sh" } }), defaultConfig());
    expect(finding).toEqual({ key: "audit.postLogScript", value: "./x.sh", reason: "a program isol8 starts on the host, outside any sandbox" });
  });
});
