import type { RuntimeDefinition } from "./types";

export const deno = {
  name: "deno" as const,
  // Deno needs a file: inline code is always written to one first (as for every runtime).
  extensions: [".mts"],
  defaultExtension: ".mts",
  // The container is the sandbox; inside it the program may use everything it can reach.
  command: ["deno", "run", "--allow-all", "--quiet", "{file}"],
  dockerfile: "deno",
  artifacts: [
    { file: "deno.tgz", packages: { x64: "@deno/linux-x64-glibc", arm64: "@deno/linux-arm64-glibc" }, major: 2 },
  ],
  install: {
    // `deno add` records the packages in /sandbox/deno.json, so bare imports resolve.
    argv: ["deno", "add", "--quiet", "{packages}"],
    pattern: "^(npm:|jsr:)?(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9.^~*+_-]+)?$",
    prefix: "npm:",
  },
  registryQuery: ["sh", "-c", "echo \"$NPM_CONFIG_REGISTRY\""],
  // Deno's own native memory is larger than Node's: half the limit for the heap.
  heapLimit: { env: "DENO_V8_FLAGS", flag: "--max-old-space-size={mb}", share: 0.5 },
  outOfMemory: { exitCodes: [133, 134], stderr: "JavaScript heap out of memory|Fatal JavaScript out of memory" },
  // Deno fixes its main module and arguments as it starts: the standby program is `deno run` of
  // the default program file, without arguments, with the standby script as --preload (run
  // before the main module is loaded); it takes only executions of that file without arguments.
  // It reads its own variables, the npm registry's, the proxies, Rust's, the dynamic loader's,
  // the locale and colour switches as it starts, and the configuration files of its working
  // directory (deno.json, package.json and what they name).
  standby: {
    argv: ["deno", "run", "--allow-all", "--quiet", "--preload", "/usr/local/lib/isol8/standby/deno.mjs"],
    onDefaultProgram: true,
    startupEnv:
      "^(DENO_.*|NPM_CONFIG_.*|npm_config_.*|HTTPS?_PROXY|https?_proxy|ALL_PROXY|all_proxy|NO_PROXY|no_proxy|SSL_CERT_.*|RUST_.*|LD_.*|MALLOC_.*|GLIBC_.*|LC_.*|LANG|LANGUAGE|TZ|HOME|XDG_.*|NO_COLOR|FORCE_COLOR|CLICOLOR_FORCE|TERM)$",
    startupFiles: ["deno.json", "deno.jsonc", "package.json", "deno.lock", ".npmrc", "import_map.json"],
  },
  // Installed into a node_modules directory next to a deno.json that maps the names; both are
  // linked at / (found from /sandbox by Deno's config search). "manual" afterwards: at run time
  // Deno reads node_modules as it is and never asks the registry (DENO_DIR is an empty tmpfs).
  bake: {
    workdir: "/opt/isol8-deps",
    before: [["deno", "eval", 'Deno.writeTextFileSync("deno.json", JSON.stringify({ nodeModulesDir: "auto" }))']],
    argv: ["deno", "add", "--quiet", "{packages}"],
    then: [
      ["deno", "install", "--quiet"],
      ["deno", "eval", 'const c = JSON.parse(Deno.readTextFileSync("deno.json")); c.nodeModulesDir = "manual"; Deno.writeTextFileSync("deno.json", JSON.stringify(c, null, 2))'],
      ["ln", "-s", "/opt/isol8-deps/deno.json", "/deno.json"],
      ["ln", "-s", "/opt/isol8-deps/node_modules", "/node_modules"],
    ],
  },
} satisfies RuntimeDefinition;
