import type { RuntimeDefinition } from "./types";

export const python = {
  name: "python" as const,
  extensions: [".py"],
  defaultExtension: ".py",
  command: ["python3", "{file}"],
  dockerfile: "python",
  artifacts: [],
  install: {
    // --user installs into $HOME/.local (HOME=/sandbox), which python puts on sys.path.
    argv: ["python3", "-m", "pip", "install", "--user", "--no-input", "--no-warn-script-location", "--progress-bar", "off", "{packages}"],
    pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*(\\[[A-Za-z0-9._,-]+\\])?((==|>=|<=|~=|!=|<|>)[A-Za-z0-9.*+!_-]+(,(==|>=|<=|~=|!=|<|>)[A-Za-z0-9.*+!_-]+)*)?$",
  },
  registryQuery: [
    "python3",
    "-c",
    "from pip._internal.models.index import PyPI; print(PyPI.netloc); print(PyPI.file_storage_domain)",
  ],
  // An allocation Python cannot get ends the program with an uncaught MemoryError.
  outOfMemory: { exitCodes: [1], stderr: "(^|\\n)MemoryError(: [^\\n]*)?\\n?$" },
  bake: { workdir: "/", argv: ["python3", "-m", "pip", "install", "--no-cache-dir", "--break-system-packages", "{packages}"] },
} satisfies RuntimeDefinition;
