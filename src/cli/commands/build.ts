import { createDockerClient } from "../../engine/docker";
import { DockerIsol8 } from "../../engine/engine";
import { bakeImage } from "../../engine/images/baked-images";
import { RequestError, UsageError } from "../../errors";
import { BUILTIN_RUNTIMES, createRuntimeRegistry } from "../../runtimes/registry";
import { debugArgs, forceArgs } from "../arg-fragments";
import { defineIsol8Command } from "../command";
import { createProgressRenderer } from "../progress";
import { standardError, standardOutput } from "../std-streams";

/** Runtimes whose packages can be baked into an image. */
const BAKEABLE: readonly string[] = BUILTIN_RUNTIMES.filter((runtime) => "bake" in runtime).map((runtime) => runtime.name);

const buildArgs = {
  base: { type: "string", description: `Runtime whose image to build on: ${BAKEABLE.join(" | ")} (--apt alone: any runtime)` },
  install: { type: "string", description: "Package to bake in (repeatable, or comma-separated)" },
  apt: { type: "string", description: "Debian package to bake in (repeatable, or comma-separated), e.g. python3-numpy" },
  tag: { type: "string", description: "Also name the image (e.g. my-tools:1)" },
  ...forceArgs,
  ...debugArgs,
} as const;

export default defineIsol8Command({
  meta: { name: "build", description: "Build an image with packages baked in (used automatically when a run installs a subset of them)" },
  args: buildArgs,
  repeatable: ["install", "apt"],
  async run({ flags: args, config, debugLog }) {
    if (!args.base) throw new UsageError("Cannot build: --base is required", "e.g. isol8 build --base python --install numpy");
    const packages = args.install.flatMap((p) => p.split(",")).map((p) => p.trim()).filter(Boolean);
    const apt = args.apt.flatMap((p) => p.split(",")).map((p) => p.trim()).filter(Boolean);
    if (packages.length === 0 && apt.length === 0) throw new UsageError("Cannot build: no --install or --apt packages given");
    if (packages.length > 0 && !BAKEABLE.includes(args.base)) throw new UsageError(`Cannot use --base "${args.base}" with --install: expected ${BAKEABLE.join(" | ")} (--apt works with any runtime)`);
    const runtime = createRuntimeRegistry().get(args.base);
    const progress = createProgressRenderer(standardError(), { verbose: Boolean(args.debug) });
    const engine = new DockerIsol8({ config, onImageProgress: progress, log: debugLog ?? (() => {}) });
    await engine.start();
    await engine.imageManager.ensure(runtime, progress); // the runtime image it builds on
    const t0 = performance.now();
    const baked = await bakeImage(createDockerClient(), engine.imageManager.names, runtime, packages, {
      ...(args.tag ? { tag: args.tag } : {}),
      force: Boolean(args.force),
      apt,
      onLine: (line) => progress({ image: runtime.name, line }),
    }).catch((error: unknown) => {
      throw error instanceof RequestError ? new UsageError(`${error.message} (--install)`, error.hint) : error;
    });
    progress.done();
    standardOutput().write(`${baked.ref}\n`);
    standardError().write(`${baked.built ? "built" : "up to date"} in ${((performance.now() - t0) / 1000).toFixed(1)}s\n`);
    return 0;
  },
});
