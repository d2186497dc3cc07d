// The ONLY importer of embedded/: every asset is bundled into the binary and the
// library through import attributes; nothing is looked up on disk at run time.
import seccompStrict from "../embedded/seccomp-strict.json" with { type: "json" };
import supervisorSource from "../embedded/supervisor.c" with { type: "text" };
import baseDockerfile from "../embedded/base.Dockerfile" with { type: "text" };
import pythonDockerfile from "../embedded/python.Dockerfile" with { type: "text" };
import nodeDockerfile from "../embedded/node.Dockerfile" with { type: "text" };
import bunDockerfile from "../embedded/bun.Dockerfile" with { type: "text" };
import denoDockerfile from "../embedded/deno.Dockerfile" with { type: "text" };
import bashDockerfile from "../embedded/bash.Dockerfile" with { type: "text" };
import playgroundHtml from "../playground/index.html" with { type: "text" };
import playgroundCss from "../playground/style.css" with { type: "text" };
// Written by build.ts (Bun.build of playground/main.ts with CodeMirror): run `npm run build` first.
import playgroundJs from "../embedded/generated/playground.bundle" with { type: "text" };
import pythonContextDriver from "../embedded/contexts/python.py" with { type: "text" };
import jsContextDriver from "../embedded/contexts/js-driver.txt" with { type: "text" };
import bashContextDriver from "../embedded/contexts/bash.sh" with { type: "text" };
import pythonZygote from "../embedded/zygote.py" with { type: "text" };
import nodeStandby from "../embedded/standby/node.cjs.txt" with { type: "text" };
import bunStandby from "../embedded/standby/bun.mjs.txt" with { type: "text" };
import denoStandby from "../embedded/standby/deno.mjs.txt" with { type: "text" };
import standbyTakeSpec from "../embedded/standby/take-spec.cjs.txt" with { type: "text" };

/** The strict seccomp profile (an allowlist), as JSON text for Docker's `seccomp=` option. */
export const SECCOMP_STRICT_PROFILE: string = JSON.stringify(seccompStrict);

/** C source of the in-container supervisor, compiled into the base image. */
export const SUPERVISOR_SOURCE: string = supervisorSource;

/** The playground page served at GET / (its script bundled with its editor at build time). */
export const PLAYGROUND: { readonly html: string; readonly js: string; readonly css: string } = {
  // bun-types types every .html import as an HTMLBundle; with `type: "text"` it is the text.
  html: playgroundHtml as unknown as string,
  js: playgroundJs,
  css: playgroundCss,
};

/** Dockerfiles by name: `base` plus one per runtime. */
export const DOCKERFILES: Readonly<Record<string, string>> = {
  base: baseDockerfile,
  python: pythonDockerfile,
  node: nodeDockerfile,
  bun: bunDockerfile,
  deno: denoDockerfile,
  bash: bashDockerfile,
};

/**
 * Interpreter drivers of code-interpreter contexts (see embedded/supervisor.c, "contexts"):
 * passed to the interpreter as its program text, never written to a file a context could change.
 */
export const CONTEXT_DRIVERS: Readonly<{ python: string; js: string; bash: string }> = {
  python: pythonContextDriver,
  js: jsContextDriver,
  bash: bashContextDriver,
};

/**
 * The python zygote (embedded/zygote.py): started by the supervisor in python containers, it
 * forks each python program from an interpreter that is already initialised.
 */
export const PYTHON_ZYGOTE: string = pythonZygote;

/**
 * Standby programs (embedded/standby/, see supervisor.c "standby program"): copied into the base
 * image under /usr/local/lib/isol8/standby/ by these names, read-only for every user.
 */
export const STANDBY_PROGRAMS: Readonly<Record<string, string>> = {
  "node.cjs": nodeStandby,
  "bun.mjs": bunStandby,
  "deno.mjs": denoStandby,
  "take-spec.cjs": standbyTakeSpec,
};
