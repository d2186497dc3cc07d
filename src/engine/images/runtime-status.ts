import type { ImageStatus, RuntimeInfo } from "../../protocol/runtime-info";
import type { Runtime } from "../../runtimes/registry";
import type { DockerClient } from "../docker";
import { artifactLabel, LABEL_SUPERVISOR } from "../labels";
import type { ImageNames } from "./image-names";

const ARTIFACT_LABEL = artifactLabel("");

/** The image status and versions of one runtime from its image's labels (null: no image). Pure. */
export function runtimeInfo(
  runtime: Pick<Runtime, "name" | "extensions" | "defaultExtension">,
  image: string,
  labels: Record<string, string> | null,
  supervisor: string,
): RuntimeInfo {
  const status: ImageStatus = labels === null ? "missing" : labels[LABEL_SUPERVISOR] === supervisor ? "present" : "stale";
  const versions = Object.fromEntries(
    Object.entries(labels ?? {})
      .filter(([key]) => key.startsWith(ARTIFACT_LABEL))
      .map(([key, value]) => [key.slice(ARTIFACT_LABEL.length), value]),
  );
  const extensions = [runtime.defaultExtension, ...runtime.extensions.filter((e) => e !== runtime.defaultExtension)];
  return { name: runtime.name, extensions, image, imageStatus: status, versions };
}

/** Every runtime with the state of its built-in image (one inspect per runtime). */
export async function runtimeStatus(docker: DockerClient, names: ImageNames, runtimes: readonly Runtime[], supervisor: string): Promise<RuntimeInfo[]> {
  return Promise.all(
    runtimes.map(async (runtime) => {
      const image = names.runtime(runtime.name);
      const found = await docker.inspectImage(image);
      return runtimeInfo(runtime, image, found ? found.labels : null, supervisor);
    }),
  );
}
