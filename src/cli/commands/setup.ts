import type { ArgsDef } from "citty";
import { createDockerClient } from "../../engine/docker";
import { DockerIsol8 } from "../../engine/engine";
import { bakeImage } from "../../engine/images/baked-images";
import { BUILTIN_RUNTIMES, createRuntimeRegistry } from "../../runtimes/registry";
import { debugArgs, forceArgs } from "../arg-fragments";
import { defineIsol8Command } from "../command";
import { createProgressRenderer } from "../progress";

/** Runtimes whose packages can be baked into an image: each gets a `--<runtime> a,b` flag. */
const BAKEABLE = BUILTIN_RUNTIMES.filter((runtime) => "bake" in runtime).map((runtime) => runtime.name);

const setupArgs = {
  runtimes: { type: "positional", required: false, description: "Runtimes to build (default: all)" },
  ...(Object.fromEntries(
    BAKEABLE.map((name) => [name, { type: "string", description: `${name} packages to bake into an image, comma-separated (adds to config dependencies.${name})` }]),
  ) as ArgsDef),
  ...forceArgs,
  ...debugArgs,
} as const;

export default defineIsol8Command({
  meta: { name: "setup", description: "Check Docker and build the sandbox images (skips up-to-date ones)" },
  args: setupArgs,
  async run({ flags: args, positionals, config }) {
    const registry = createRuntimeRegistry();
    const names = positionals.filter((n, i, all) => all.indexOf(n) === i);
    const runtimes = names.length ? names.map((name) => registry.get(name)) : registry.all;
    const engine = new DockerIsol8({ config });
    await engine.start();
    const started = performance.now();
    const progress = createProgressRenderer(process.stderr, { verbose: Boolean(args.debug) });
    try {
      const results = await engine.imageManager.setup(runtimes, { force: Boolean(args.force), onProgress: progress });
      // Images with packages baked in: config `dependencies`, plus --python/--node/--bun.
      for (const runtime of BAKEABLE) {
        const flag = (args as Record<string, unknown>)[runtime];
        const fromFlag = typeof flag === "string" ? flag.split(",").map((p) => p.trim()).filter(Boolean) : [];
        const packages = [...config.dependencies[runtime], ...fromFlag];
        if (packages.length === 0) continue;
        const image = `${runtime} + ${packages.join(" ")}`;
        const t0 = performance.now();
        progress({ image, state: "checking" });
        progress({ image, state: "building" });
        const baked = await bakeImage(createDockerClient(), engine.imageManager.names, registry.get(runtime), packages, {
          force: Boolean(args.force),
          onLine: (line) => progress({ image, line }),
        });
        progress.done();
        process.stderr.write(`${baked.ref}: ${baked.built ? "built" : "up to date"} (${packages.join(" ")}, ${((performance.now() - t0) / 1000).toFixed(1)}s)\n`);
        results.push({ image: baked.ref, state: baked.built ? "built" : "up-to-date", ms: performance.now() - t0 });
      }
      progress.done();
      const built = results.filter((r) => r.state === "built").length;
      process.stderr.write(
        `setup done in ${((performance.now() - started) / 1000).toFixed(1)}s: ${built} built, ${results.length - built} up to date\n`,
      );
      return 0;
    } finally {
      progress.done();
    }
  },
});
