import * as v from "valibot";
import { isSize, SIZE_HINT, type Size } from "./sizes";

/** Every runtime isol8 ships an image for. */
export const RUNTIME_NAMES = ["python", "node", "bun", "deno", "bash"] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export const NETWORK_MODES = ["none", "filtered", "host"] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export const SECCOMP_MODES = ["strict", "unconfined", "custom"] as const;
export type SeccompMode = (typeof SECCOMP_MODES)[number];

/** A size (`512m`, `1g`, `256k` or bytes); shared by the config and execution requests. */
export const SizeSchema = v.pipe(
  v.union([v.string(), v.number()], SIZE_HINT),
  v.check((value) => isSize(value), SIZE_HINT),
) as v.GenericSchema<Size, Size>;
export const PositiveIntSchema = v.pipe(v.number(), v.integer(), v.minValue(1));
const size = SizeSchema;
const positiveInt = PositiveIntSchema;
const nonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0));
const packageList = v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []);

/** A strict object that also refuses arrays (valibot's object schemas accept them). */
function section<const T extends v.ObjectEntries>(entries: T) {
  return v.pipe(
    v.custom<Record<string, unknown>>((x) => typeof x === "object" && x !== null && !Array.isArray(x), "expected an object"),
    v.strictObject(entries),
  );
}

/** Limits and behaviour applied to every execution unless a request or flag says otherwise. */
export const DefaultsSchema = section({
  timeoutMs: v.optional(positiveInt, 30_000),
  memoryLimit: v.optional(size, "512m"),
  cpuLimit: v.optional(v.pipe(v.number(), v.minValue(0.01), v.maxValue(1024)), 1),
  network: v.optional(v.picklist(NETWORK_MODES), "none"),
  sandboxSize: v.optional(size, "512m"),
  tmpSize: v.optional(size, "256m"),
  pidsLimit: v.optional(positiveInt, 64),
  maxOutputSize: v.optional(size, 1_048_576),
});

export const PoolSizeSchema = v.union([
  nonNegativeInt,
  section({ clean: v.optional(nonNegativeInt, 1), dirty: v.optional(nonNegativeInt, 1) }),
]);

export const ConfigSchema = section({
  $schema: v.optional(v.string()),
  maxConcurrent: v.optional(positiveInt, 10),
  defaults: v.optional(DefaultsSchema, {}),
  network: v.optional(
    section({
      /** Filtered mode: host name patterns (regular expressions, whole host) every execution may reach. */
      whitelist: v.optional(v.array(v.string()), []),
      /** Filtered mode: host name patterns refused everywhere (deny wins over allow). */
      blacklist: v.optional(v.array(v.string()), []),
      /** Filtered mode: destination ports the proxy connects to. */
      allowedPorts: v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535))), [80, 443]),
      /** Filtered mode: address ranges (CIDR) that IP literals and internal addresses may be in; default none. */
      allowedCidrs: v.optional(v.array(v.string()), []),
      /** Filtered mode: static name → address entries the proxy uses before DNS (split-horizon, tests). */
      hosts: v.optional(v.record(v.string(), v.string()), {}),
      /** Filtered mode: port of the proxy inside the sandbox (HTTP_PROXY=http://127.0.0.1:<port>). */
      proxyPort: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024), v.maxValue(65535)), 8118),
    }),
    {},
  ),
  poolStrategy: v.optional(v.picklist(["fast", "secure"]), "fast"),
  poolSize: v.optional(PoolSizeSchema, { clean: 1, dirty: 1 }),
  cleanup: v.optional(
    section({
      autoPrune: v.optional(v.boolean(), true),
      maxContainerAgeMs: v.optional(positiveInt, 3_600_000),
    }),
    {},
  ),
  security: v.optional(
    section({
      seccomp: v.optional(v.picklist(SECCOMP_MODES), "strict"),
      customProfilePath: v.optional(v.string()),
    }),
    {},
  ),
  audit: v.optional(
    section({
      enabled: v.optional(v.boolean(), false),
      destination: v.optional(v.picklist(["filesystem", "file", "stdout"]), "filesystem"),
      logDir: v.optional(v.string(), "./.isol8_audit"),
      includeCode: v.optional(v.boolean(), false),
      includeOutput: v.optional(v.boolean(), false),
      retentionDays: v.optional(positiveInt, 30),
      postLogScript: v.optional(v.string()),
      required: v.optional(v.boolean(), false),
    }),
    {},
  ),
  dependencies: v.optional(
    section({
      python: packageList,
      node: packageList,
      bun: packageList,
      deno: packageList,
      bash: packageList,
    }),
    {},
  ),
  server: v.optional(
    section({
      /** Largest accepted HTTP request body; larger ones get 413. */
      maxBodySize: v.optional(size, "16m"),
      /** Requests that may wait for an execution slot beyond maxConcurrent; more get 429. */
      maxQueue: v.optional(nonNegativeInt, 100),
      /** On SIGTERM/SIGINT, how long in-flight executions may take to finish. */
      shutdownGraceMs: v.optional(nonNegativeInt, 30_000),
      /** Largest file accepted or returned by the /file endpoints. */
      maxFileSize: v.optional(size, "10m"),
      /** Most sessions (persistent containers) at once. */
      maxSessions: v.optional(positiveInt, 100),
      /**
       * Highest values a client may ask for; above them the request gets 403 naming the
       * option. A limit not set here is capped at its defaults.* value.
       */
      limits: v.optional(
        section({
          timeoutMs: v.optional(positiveInt),
          memoryLimit: v.optional(size),
          cpuLimit: v.optional(v.pipe(v.number(), v.minValue(0.01))),
          pidsLimit: v.optional(positiveInt),
          sandboxSize: v.optional(size),
          tmpSize: v.optional(size),
          maxOutputSize: v.optional(size),
        }),
        {},
      ),
      /** Let clients ask for `network: "host"`. */
      allowHostNetwork: v.optional(v.boolean(), false),
      /**
       * Let clients widen the filtered network with their own `allow` patterns (their `deny`
       * patterns, which only narrow it, are always accepted). Off: only the server's
       * network.whitelist (and package registries for installs) can be reached.
       */
      allowClientNetworkPatterns: v.optional(v.boolean(), false),
      /** Images clients may ask for besides the built-in runtime images. */
      allowedImages: v.optional(v.array(v.string()), []),
    }),
    {},
  ),
  images: v.optional(
    section({
      /** Debian-family slim image the sandbox images build on. */
      baseImage: v.optional(v.string(), "debian:bookworm-slim"),
      /** Trust the host's extra CA certificates inside the images (TLS-intercepting proxies). */
      hostCaCertificates: v.optional(v.boolean(), true),
      /** More PEM files to trust inside the images. */
      caCertificateFiles: v.optional(v.array(v.string()), []),
    }),
    {},
  ),
});

/** The resolved configuration: every key present. */
export type Isol8Config = v.InferOutput<typeof ConfigSchema>;
/** What a config file may contain: every key optional. */
export type Isol8ConfigInput = v.InferInput<typeof ConfigSchema>;
export type ExecutionDefaults = Isol8Config["defaults"];

/** The built-in defaults (the schema applied to an empty document). */
export function defaultConfig(): Isol8Config {
  return v.parse(ConfigSchema, {});
}
