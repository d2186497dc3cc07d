import type { RuntimeDefinition } from "./types";

export const bash: RuntimeDefinition = {
  name: "bash",
  extensions: [".sh", ".bash"],
  defaultExtension: ".sh",
  command: ["bash", "{file}"],
  dockerfile: "bash",
  artifacts: [],
};
