import type { RuntimeDefinition } from "./types";

export const bun = {
  name: "bun" as const,
  extensions: [".ts", ".tsx", ".jsx"],
  defaultExtension: ".ts",
  command: ["bun", "run", "{file}"],
  dockerfile: "bun",
  artifacts: [
    { file: "bun.tgz", packages: { x64: "@oven/bun-linux-x64", arm64: "@oven/bun-linux-aarch64" }, major: 1 },
  ],
  install: {
    argv: ["bun", "add", "--no-summary", "--cwd", "/sandbox", "{packages}"],
    pattern: "^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9.^~*+_-]+)?$",
  },
  registryQuery: ["sh", "-c", "echo \"$NPM_CONFIG_REGISTRY\""],
  bake: {
    workdir: "/opt/isol8-deps",
    argv: ["bun", "add", "--no-summary", "{packages}"],
    then: [["ln", "-s", "/opt/isol8-deps/node_modules", "/node_modules"]],
  },
  // Bun reads its own variables, NODE_ENV (which .env files), the dynamic loader's and the
  // colour switches as it starts, and bunfig.toml and the .env files of its working directory.
  standby: {
    argv: ["bun", "run", "/usr/local/lib/isol8/standby/bun.mjs"],
    startupEnv: "^(BUN_.*|NODE_.*|LD_.*|MALLOC_.*|GLIBC_.*|LC_.*|LANG|LANGUAGE|TZ|DO_NOT_TRACK|FORCE_COLOR|NO_COLOR)$",
    startupFiles: [
      "bunfig.toml",
      ".env",
      ".env.local",
      ".env.development",
      ".env.production",
      ".env.test",
      ".env.development.local",
      ".env.production.local",
      ".env.test.local",
    ],
  },
} satisfies RuntimeDefinition;
