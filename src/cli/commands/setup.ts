import type { ArgsDef } from "citty";
import { createDockerClient } from "../../engine/docker";
import { DockerIsol8 } from "../../engine/engine";
import { bakeImage } from "../../engine/images/baked-images";
import { ConfigError, UsageError } from "../../errors";
import { BUILTIN_RUNTIMES, createRuntimeRegistry, type RuntimeName } from "../../runtimes/registry";
import { debugArgs, forceArgs } from "../arg-fragments";
import { defineIsol8Command } from "../command";
import { createProgressRenderer } from "../progress";
import { standardError, standardOutput } from "../std-streams";

/** Runtimes whose packages can be baked into an image. Every runtime gets a `--<runtime> a,b` flag; the others refuse it. */
const BAKEABLE: readonly string[] = BUILTIN_RUNTIMES.filter((runtime) => "bake" in runtime).map((runtime) => runtime.name);

const setupArgs = {
  runtimes: { type: "positional", required: false, description: "Runtimes to build (default: all)" },
  ...(Object.fromEntries(
    BUILTIN_RUNTIMES.map(({ name }) => [
      name,
      {
        type: "string",
        description: BAKEABLE.includes(name)
          ? `${name} packages to bake into an image, comma-separated (adds to config dependencies.${name})`
          : `(refused: ${name} has no package manager to bake packages with)`,
      },
    ]),
  ) as ArgsDef),
  apt: { type: "string", description: "Debian packages to bake in, comma-separated (adds to config dependencies.apt; python image, or the one runtime named)" },
  ...forceArgs,
  ...debugArgs,
} as const;

export default defineIsol8Command({
  meta: { name: "setup", description: "Check Docker and build the sandbox images (skips up-to-date ones)" },
  args: setupArgs,
  async run({ flags: args, positionals, config, debugLog }) {
    const registry = createRuntimeRegistry();
    const wanted = bakeRequests(config.dependencies, args as Record<string, unknown>);
    const names = positionals.filter((n, i, all) => all.indexOf(n) === i);
    const runtimes = names.length ? names.map((name) => registry.get(name)) : registry.all;
    const docker = createDockerClient();
    const engine = new DockerIsol8({ config, docker, log: debugLog ?? (() => {}) });
    await engine.start();
    const started = performance.now();
    const progress = createProgressRenderer(standardError(), { verbose: Boolean(args.debug) });
    try {
      const results = await engine.imageManager.setup(runtimes, { force: Boolean(args.force), onProgress: progress });
      // Images with packages baked in: config `dependencies`, plus --python/--node/--bun/--deno and --apt
      // (Debian packages go into the python image, or into the one runtime named).
      const list = (flag: unknown) => (typeof flag === "string" ? flag.split(",").map((p) => p.trim()).filter(Boolean) : []);
      const apt = [...config.dependencies.apt, ...list(args.apt)];
      const aptRuntime = (names.length === 1 ? names[0]! : "python") as RuntimeName;
      const bakes = new Map<RuntimeName, string[]>(wanted);
      if (apt.length && !bakes.has(aptRuntime)) bakes.set(aptRuntime, []);
      for (const [runtime, packages] of bakes) {
        const debs = runtime === aptRuntime ? apt : [];
        const image = `${runtime} + ${[...packages, ...debs].join(" ")}`;
        const t0 = performance.now();
        progress({ image, state: "checking" });
        progress({ image, state: "building" });
        const baked = await bakeImage(docker, engine.imageManager.names, registry.get(runtime), packages, {
          force: Boolean(args.force),
          apt: debs,
          onLine: (line) => progress({ image, line }),
        });
        progress.done();
        standardError().write(`${baked.ref}: ${baked.built ? "built" : "up to date"} (${[...packages, ...debs].join(" ")}, ${((performance.now() - t0) / 1000).toFixed(1)}s)\n`);
        results.push({ image: baked.ref, state: baked.built ? "built" : "up-to-date", ms: performance.now() - t0 });
      }
      progress.done();
      const built = results.filter((r) => r.state === "built").length;
      // The one line a script reads: on stdout (progress and details stay on stderr).
      standardOutput().write(
        `setup done in ${((performance.now() - started) / 1000).toFixed(1)}s: ${built} built, ${results.length - built} up to date\n`,
      );
      return 0;
    } finally {
      progress.done();
    }
  },
});

/**
 * The packages to bake per runtime: config `dependencies.<runtime>` plus `--<runtime> a,b`.
 * Packages for a runtime that cannot bake them are refused, never ignored. Pure.
 */
export function bakeRequests(dependencies: Record<string, readonly string[]>, flags: Record<string, unknown>): [RuntimeName, string[]][] {
  const out: [RuntimeName, string[]][] = [];
  for (const { name } of BUILTIN_RUNTIMES) {
    const flag = flags[name];
    const fromFlag = typeof flag === "string" ? flag.split(",").map((p) => p.trim()).filter(Boolean) : [];
    const fromConfig = dependencies[name] ?? [];
    const packages = [...fromConfig, ...fromFlag];
    if (packages.length === 0) continue;
    if (!BAKEABLE.includes(name)) {
      const where = fromFlag.length ? `--${name}` : `dependencies.${name}`;
      const error = `Cannot bake packages for ${name} (${where}): ${name} has no package manager to install them with`;
      const hint = `remove ${where}; for system tools, bake Debian packages with --apt (isol8 setup ${name} --apt <pkg>)`;
      throw fromFlag.length ? new UsageError(error, hint) : new ConfigError(error, hint);
    }
    out.push([name, packages]);
  }
  return out;
}
