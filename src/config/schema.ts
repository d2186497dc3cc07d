import * as v from "valibot";
import { ISOLATION_RUNTIMES, NETWORK_MODES, SECCOMP_MODES } from "../protocol/execution";
import { defaultedLimitEntries, optionalLimitEntries } from "../protocol/limits";
import { SizeSchema } from "../protocol/sizes";
import { RUNTIME_NAMES, type RuntimeName } from "../runtimes/registry";

// Every key carries a description: the generated schema/isol8.config.schema.json documents
// each one (and editors show it). `d(schema, text)` attaches it.
const d = <S extends v.GenericSchema>(schema: S, text: string) => v.pipe(schema, v.description(text));

const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
const nonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0));
const packageList = (runtime: string) =>
  v.optional(d(v.array(v.pipe(v.string(), v.minLength(1))), `${runtime} packages baked into an image by isol8 setup`), []);

/** A strict object that also refuses arrays (valibot's object schemas accept them). */
function section<const T extends v.ObjectEntries>(entries: T, description: string) {
  return v.pipe(
    v.custom<Record<string, unknown>>((x) => typeof x === "object" && x !== null && !Array.isArray(x), "expected an object"),
    v.strictObject(entries),
    v.description(description),
  );
}

/** Limits and behaviour applied to every execution unless a request or flag says otherwise. */
export const DefaultsSchema = section(
  {
    ...defaultedLimitEntries(),
    network: v.optional(d(v.picklist(NETWORK_MODES), "Network of an execution that names none: none | filtered | host"), "none"),
  },
  "Limits and settings of every execution that does not set them itself",
);

export const PoolSizeSchema = d(
  v.union([
    nonNegativeInt,
    section(
      {
        clean: v.optional(d(nonNegativeInt, "Started, wiped containers kept ready per container kind"), 1),
        dirty: v.optional(d(nonNegativeInt, "Used containers waiting to be wiped in the background (fast strategy)"), 1),
      },
      "Warm containers per container kind",
    ),
  ]),
  "Warm pool size: a number sets both clean and dirty; 0 turns the pool off",
);

const sandboxUid = v.pipe(v.number(), v.integer(), v.minValue(1000), v.maxValue(2_147_483_646));

/** Each container runs programs as its own uid from this range (per-user kernel limits are per uid). */
export const SandboxUidsSchema = v.pipe(
  section(
    {
      from: d(sandboxUid, "Lowest uid"),
      to: d(sandboxUid, "Highest uid (at least from)"),
    },
    "Uids sandbox containers run programs as, one per container, picked at random from this range (inclusive). " +
      "Keep it clear of host users; with rootless Docker or userns-remap it must lie inside the mapped uids",
  ),
  v.check((range) => range.from <= range.to, "from must not be above to"),
);

/** Code-interpreter contexts (long-lived interpreters in a session's container). */
export const ContextsSchema = section(
  {
    maxPerSession: v.optional(d(v.pipe(positiveInt, v.maxValue(64)), "Most contexts at once in one persistent engine (at most 64)"), 8),
    idleMs: v.optional(d(positiveInt, "A context with no cell for this long is stopped; its state is lost"), 1_800_000),
    interruptGraceMs: v.optional(
      d(positiveInt, "How long an interrupted cell (timeout, cancel) may take to end before its context is killed"),
      2_000,
    ),
    maxResultBytes: v.optional(d(SizeSchema, "Largest rich result (one MIME bundle as JSON); a larger one is replaced by a note"), "8m"),
    maxResultsBytes: v.optional(d(SizeSchema, "Rich results of one cell, in all; later ones are dropped"), "32m"),
    startTimeoutMs: v.optional(d(positiveInt, "How long an interpreter may take to start"), 30_000),
  },
  "Code-interpreter contexts",
);

type DependencyEntries = { [K in RuntimeName]: ReturnType<typeof packageList> };
/** `server.mcp.images`: an optional image per runtime. */
const mcpImageEntries = Object.fromEntries(
  RUNTIME_NAMES.map((name) => [name, v.optional(d(v.pipe(v.string(), v.minLength(1)), `Image of the ${name} sandboxes of MCP sessions`))]),
) as unknown as Record<RuntimeName, v.OptionalSchema<v.GenericSchema<string>, undefined>>;

const dependencyEntries = Object.fromEntries(RUNTIME_NAMES.map((name) => [name, packageList(name)])) as DependencyEntries;

export const ConfigSchema = section(
  {
    $schema: v.optional(d(v.string(), "The JSON Schema this file follows (for editors)")),
    maxConcurrent: v.optional(d(positiveInt, "Executions at once per engine; more wait in line"), 10),
    debug: v.optional(d(v.boolean(), "Engine logs (and image build output) on stderr, as with --debug"), false),
    defaults: v.optional(DefaultsSchema, {}),
    network: v.optional(
      section(
        {
          whitelist: v.optional(d(v.array(v.string()), "Filtered network: host patterns every execution may reach (whole host)"), []),
          blacklist: v.optional(d(v.array(v.string()), "Filtered network: host patterns refused everywhere (deny wins over allow)"), []),
          allowedPorts: v.optional(
            d(v.array(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535))), "Filtered network: destination ports the proxy connects to"),
            [80, 443],
          ),
          allowedCidrs: v.optional(
            d(v.array(v.string()), "Filtered network: address ranges (CIDR) that IP literals and internal addresses may be in; default none"),
            [],
          ),
          hosts: v.optional(
            d(v.record(v.string(), v.string()), "Filtered network: static name → address entries the proxy uses before DNS"),
            {},
          ),
          proxyPort: v.optional(
            d(v.pipe(v.number(), v.integer(), v.minValue(1024), v.maxValue(65535)), "Filtered network: port of the proxy inside the sandbox (HTTP_PROXY)"),
            8118,
          ),
        },
        "The filtered network mode's policy",
      ),
      {},
    ),
    poolStrategy: v.optional(
      d(v.picklist(["fast", "secure"]), "fast: used containers are wiped in the background; secure: wiped right before reuse"),
      "fast",
    ),
    poolSize: v.optional(PoolSizeSchema, { clean: 1, dirty: 1 }),
    cleanup: v.optional(
      section(
        {
          autoPrune: v.optional(d(v.boolean(), "Remove idle server sessions after maxContainerAgeMs"), true),
          maxContainerAgeMs: v.optional(d(positiveInt, "Pooled containers older than this are not reused; idle sessions older than this are removed"), 3_600_000),
        },
        "Container lifetimes",
      ),
      {},
    ),
    security: v.optional(
      section(
        {
          seccomp: v.optional(d(v.picklist(SECCOMP_MODES), "strict (the embedded allowlist) | custom (customProfilePath) | unconfined"), "strict"),
          customProfilePath: v.optional(d(v.string(), "Seccomp profile file for seccomp \"custom\"; an unreadable one fails every execution")),
          sandboxUids: v.optional(SandboxUidsSchema, { from: 1_000_000, to: 1_999_999 }),
          runtime: v.optional(
            d(
              v.picklist(ISOLATION_RUNTIMES),
              "Container runtime: runc | gvisor (gVisor's user-space kernel as a second boundary; needs runsc registered with Docker). " +
                "On a server: the weakest a client may ask for (a server with gvisor refuses requests for runc)",
            ),
            "runc",
          ),
          pythonZygote: v.optional(
            d(
              v.boolean(),
              "Fork each python program of a pooled or session container from an interpreter started once in it (root-owned, never runs user code); " +
                "false: start python3 per execution. Never under gvisor",
            ),
            true,
          ),
          standbyPrograms: v.optional(
            d(
              v.boolean(),
              "Start the next node, bun or deno program of a pooled container ahead, after each clean, as the sandbox user with the execution's posture; " +
                "it waits for the execution's argv, env and working directory, then runs the program file. false: start node, bun or deno per execution",
            ),
            true,
          ),
          directChannel: v.optional(
            d(
              v.boolean(),
              "Talk to each container's supervisor over a unix socket the engine bind-mounts read-only into it (a root-only host directory, removed once the " +
                "supervisor connects at start) instead of through Docker's attach relay; false: the attach stream. Used only with a local Docker (a unix " +
                "DOCKER_HOST) that sees the engine's run directory (ISOL8_RUN_DIR); where the supervisor cannot connect, the attach stream serves",
            ),
            true,
          ),
        },
        "Seccomp, isolation runtime, the sandbox user, the python zygote, the standby programs of executions and the supervisor's channel",
      ),
      {},
    ),
    audit: v.optional(
      section(
        {
          enabled: v.optional(d(v.boolean(), "Write one audit record per execution"), false),
          destination: v.optional(d(v.picklist(["filesystem", "file", "stdout"]), "filesystem (alias file): daily JSON Lines files in logDir; stdout"), "filesystem"),
          logDir: v.optional(d(v.string(), "Directory of the daily audit files (created when missing)"), "./.isol8_audit"),
          includeCode: v.optional(d(v.boolean(), "Also record the code (otherwise only its hash and size)"), false),
          includeOutput: v.optional(d(v.boolean(), "Also record the masked, capped stdout and stderr"), false),
          retentionDays: v.optional(d(positiveInt, "Daily audit files older than this are deleted"), 30),
          postLogScript: v.optional(d(v.string(), "Executable run (without a shell) after writes, with the log file's path")),
          required: v.optional(d(v.boolean(), "Refuse executions when no audit record can be written"), false),
        },
        "The audit log",
      ),
      {},
    ),
    dependencies: v.optional(
      section(
        {
          ...dependencyEntries,
          apt: v.optional(
            d(
              v.array(v.pipe(v.string(), v.minLength(1))),
              "Debian packages (e.g. python3-numpy) baked by isol8 setup into the python image with dependencies.python, or into the one runtime setup is given",
            ),
            [],
          ),
        },
        "Packages baked into images by isol8 setup, per runtime; apt: Debian packages",
      ),
      {},
    ),
    contexts: v.optional(ContextsSchema, {}),
    server: v.optional(
      section(
        {
          maxBodySize: v.optional(d(SizeSchema, "Largest accepted HTTP request body; larger ones get 413"), "16m"),
          maxQueue: v.optional(d(nonNegativeInt, "Requests that may wait for an execution slot beyond maxConcurrent; more get 429"), 100),
          shutdownGraceMs: v.optional(d(nonNegativeInt, "On SIGTERM/SIGINT, how long in-flight executions may take to finish"), 30_000),
          maxFileSize: v.optional(d(SizeSchema, "Largest file accepted or returned by the /file endpoints"), "10m"),
          maxSessions: v.optional(d(positiveInt, "Most sessions (persistent containers) at once"), 100),
          idleTimeoutMs: v.optional(
            d(
              v.pipe(v.number(), v.integer(), v.minValue(1000), v.maxValue(255_000)),
              "Connections with no traffic (idle keep-alive, stalled headers or body) are closed after this; whole seconds, 1-255 s",
            ),
            10_000,
          ),
          maxRequestsInFlight: v.optional(d(positiveInt, "Requests in progress at once (reading, waiting, running, streaming); more get 503 with Retry-After"), 512),
          maxConnections: v.optional(
            d(positiveInt, "Open TCP connections at once, in all; a new connection over the cap is answered 503 (Retry-After, Connection: close) and closed unread"),
            1024,
          ),
          maxConnectionsPerAddress: v.optional(
            d(positiveInt, "Open TCP connections at once from one client address (IPv6: one /64); more are answered 503 and closed unread"),
            64,
          ),
          maxUnauthenticatedConnections: v.optional(
            d(
              positiveInt,
              "Open TCP connections on which no request has been admitted with an API key yet (new ones, /health pollers, refused clients); more are answered 503 and closed unread",
            ),
            256,
          ),
          authFailureLimit: v.optional(d(positiveInt, "Wrong API keys from one address (IPv6: one /64) within authFailureWindowMs before its new connections get 429"), 20),
          authFailureWindowMs: v.optional(d(positiveInt, "The window of authFailureLimit, in ms"), 60_000),
          limits: v.optional(
            section(
              optionalLimitEntries(),
              "Highest limits a client may ask for (403 above them); a limit not set here is capped at its defaults.* value",
            ),
            {},
          ),
          allowHostNetwork: v.optional(d(v.boolean(), 'Let clients ask for network "host"'), false),
          allowClientNetworkPatterns: v.optional(
            d(v.boolean(), "Let clients widen the filtered network with their own allow patterns (deny patterns are always accepted)"),
            false,
          ),
          allowedImages: v.optional(d(v.array(v.string()), "Images clients may ask for besides the built-in runtime images"), []),
          allowInstalls: v.optional(
            d(v.boolean(), "Let clients install packages (installPackages): the install step reaches the runtime's package registries"),
            false,
          ),
          logFormat: v.optional(d(v.picklist(["json", "pretty"]), "Server log lines: json (one object per line, for collectors) | pretty (for people)"), "pretty"),
          logLevel: v.optional(d(v.picklist(["debug", "info", "warn", "error"]), "Lowest level logged (debug adds engine events; --debug sets it)"), "info"),
          metricsToken: v.optional(
            d(
              v.pipe(v.string(), v.minLength(16, "at least 16 characters"), v.regex(/^\S+$/, "no whitespace")),
              "A bearer token that may read GET /metrics only (the API keys may too); unset: only the API keys",
            ),
          ),
          corsOrigins: v.optional(
            d(
              v.array(v.pipe(v.string(), v.regex(/^https?:\/\/[^/\s]+$/, "an origin: scheme://host[:port], no path"))),
              "Origins whose pages may call the API from a browser (CORS); default none",
            ),
            [],
          ),
          streamResumeMs: v.optional(
            d(
              v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(600_000)),
              "When a client's event stream drops, how long its program keeps running for the client to resume (Last-Event-ID); 0 stops it at once",
            ),
            10_000,
          ),
          playground: v.optional(d(v.boolean(), "Serve the playground page at GET / (it holds no key: users type theirs)"), true),
          maxContextsPerSession: v.optional(d(positiveInt, "Most code-interpreter contexts at once in one session; more get 429"), 8),
          database: v.optional(
            section(
              {
                url: v.optional(
                  d(
                    v.pipe(v.string(), v.regex(/^postgres(ql)?:\/\/\S+$/, "a PostgreSQL URL: postgres://user:password@host:port/database")),
                    "PostgreSQL holding the API keys, quotas and session directory, shared by several instances (unset: the embedded SQLite file)",
                  ),
                ),
                path: v.optional(d(v.pipe(v.string(), v.minLength(1)), "The embedded SQLite file of the key store (default: ~/.isol8/server/keys.db)")),
              },
              "The key store: API keys (as hashes), quotas and the session directory",
            ),
            {},
          ),
          advertiseUrl: v.optional(
            d(
              v.pipe(v.string(), v.regex(/^https?:\/\/[^/\s]+$/, "a base URL: scheme://host[:port], no path")),
              "How the other instances reach this one (a request for a session held here is forwarded to it); default: the address it listens on",
            ),
          ),
          mcp: v.optional(
            section(
              {
                keepAliveMs: v.optional(
                  d(
                    v.pipe(v.number(), v.integer(), v.minValue(1_000), v.maxValue(86_400_000)),
                    "How long an MCP session at /mcp outlives its client's last request or stream; then its sandboxes are removed",
                  ),
                  300_000,
                ),
                images: v.optional(
                  d(
                    v.strictObject(mcpImageEntries),
                    "The image of an MCP session's sandbox per runtime (e.g. one built with isol8 build --apt), for isol8 mcp and /mcp; default: the runtime's",
                  ),
                  {},
                ),
              },
              "The MCP server (isol8 mcp and /mcp): /mcp sessions count toward maxSessions",
            ),
            {},
          ),
        },
        "isol8 serve: limits and the policy clients are held to",
      ),
      {},
    ),
    images: v.optional(
      section(
        {
          baseImage: v.optional(d(v.string(), "Debian-family slim image the sandbox images build on"), "debian:bookworm-slim"),
          hostCaCertificates: v.optional(d(v.boolean(), "Trust the host's extra CA certificates inside the images (TLS-intercepting proxies)"), true),
          caCertificateFiles: v.optional(d(v.array(v.string()), "More PEM files to trust inside the images"), []),
        },
        "How the sandbox images are built",
      ),
      {},
    ),
  },
  "isol8 configuration",
);

/** The resolved configuration: every key present. */
export type Isol8Config = v.InferOutput<typeof ConfigSchema>;
/** What a config file may contain: every key optional. */
export type Isol8ConfigInput = v.InferInput<typeof ConfigSchema>;
export type ExecutionDefaults = Isol8Config["defaults"];

/** The built-in defaults (the schema applied to an empty document). */
export function defaultConfig(): Isol8Config {
  return v.parse(ConfigSchema, {});
}
