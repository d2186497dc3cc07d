import type { RuntimeDefinition } from "./types";

export const python: RuntimeDefinition = {
  name: "python",
  extensions: [".py"],
  defaultExtension: ".py",
  command: ["python3", "{file}"],
  dockerfile: "python",
  artifacts: [],
};
