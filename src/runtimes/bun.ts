import type { RuntimeDefinition } from "./types";

export const bun: RuntimeDefinition = {
  name: "bun",
  extensions: [".ts", ".tsx", ".jsx"],
  defaultExtension: ".ts",
  command: ["bun", "run", "{file}"],
  dockerfile: "bun",
  artifacts: [
    { file: "bun.tgz", packages: { x64: "@oven/bun-linux-x64", arm64: "@oven/bun-linux-aarch64" }, major: 1 },
  ],
};
