import type { RuntimeDefinition } from "./types";

export const bash = {
  name: "bash" as const,
  extensions: [".sh", ".bash"],
  defaultExtension: ".sh",
  command: ["bash", "{file}"],
  dockerfile: "bash",
  artifacts: [],
} satisfies RuntimeDefinition;
