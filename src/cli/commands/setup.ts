import { defineCommand } from "citty";
import { loadConfig } from "../../config/load";
import { DockerIsol8 } from "../../engine/engine";
import { createRuntimeRegistry } from "../../runtimes/registry";
import { createDockerClient } from "../../engine/docker";
import { bakeImage } from "../../engine/images/baked-images";
import { listOf, rejectUnknownFlags } from "../args";
import { createProgressRenderer } from "../progress";

const setupArgs = {
  runtimes: { type: "positional", required: false, description: "Runtimes to build (default: all)" },
  python: { type: "string", description: "Python packages to bake into an image, comma-separated (adds to config dependencies.python)" },
  node: { type: "string", description: "Node.js packages to bake into an image, comma-separated" },
  bun: { type: "string", description: "Bun packages to bake into an image, comma-separated" },
  force: { type: "boolean", description: "Rebuild every image even when up to date" },
  debug: { type: "boolean", description: "Show build output" },
} as const;

export default defineCommand({
  meta: { name: "setup", description: "Check Docker and build the sandbox images (skips up-to-date ones)" },
  args: setupArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, setupArgs, "setup");
    const { config } = loadConfig({ file: process.env.ISOL8_CONFIG });
    const registry = createRuntimeRegistry();
    const names = [...listOf(args.runtimes), ...args._.slice(1)].filter((n, i, all) => all.indexOf(n) === i);
    const runtimes = names.length ? names.map((name) => registry.get(name)) : registry.all;
    const engine = new DockerIsol8({ config });
    await engine.start();
    const started = performance.now();
    const progress = createProgressRenderer(process.stderr, { verbose: Boolean(args.debug) });
    try {
      const results = await engine.imageManager.setup(runtimes, { force: Boolean(args.force), onProgress: progress });
      // Images with packages baked in: config `dependencies`, plus --python/--node/--bun.
      for (const runtime of ["python", "node", "bun"] as const) {
        const fromFlag = typeof args[runtime] === "string" ? args[runtime].split(",").map((p) => p.trim()).filter(Boolean) : [];
        const packages = [...config.dependencies[runtime], ...fromFlag];
        if (packages.length === 0) continue;
        const image = `${runtime} + ${packages.join(" ")}`;
        const t0 = performance.now();
        progress({ image, state: "checking" });
        progress({ image, state: "building" });
        const baked = await bakeImage(createDockerClient(), registry.get(runtime), packages, {
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
