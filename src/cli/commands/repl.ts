import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { RemoteIsol8 } from "../../client/remote";
import { DockerIsol8 } from "../../engine/engine";
import { UsageError } from "../../errors";
import { CONTEXT_RUNTIMES, type ContextRuntime, type Isol8Context } from "../../protocol/context";
import { debugArgs, remoteArgs } from "../arg-fragments";
import { defineIsol8Command } from "../command";
import { createProgressRenderer } from "../progress";
import { CellReader, cellSyntax } from "../repl/cell-reader";
import { renderBundle, renderEnd } from "../repl/render-result";
import { nodeStream, standardInput } from "../std-streams";

const replArgs = {
  runtime: { type: "string", alias: "r", description: `Interpreter: ${CONTEXT_RUNTIMES.join(" | ")} (default python)` },
  image: { type: "string", description: "Image of a new session (e.g. one built with isol8 build --apt)" },
  timeout: { type: "string", description: "Each cell's timeout in ms (default: defaults.timeoutMs)" },
  "output-dir": { type: "string", description: "Where images and HTML results are saved (default: a new temporary directory)" },
  ...remoteArgs,
  ...debugArgs,
} as const;

const HELP = ":restart  start the interpreter afresh (its state is lost)\n:quit     leave (also Ctrl-D)\nCtrl-C    interrupt the running cell\n";

export default defineIsol8Command({
  meta: { name: "repl", description: "An interactive interpreter in a sandbox (a code-interpreter context)" },
  args: replArgs,
  async run({ flags, config, debugLog }) {
    const runtime = (flags.runtime ?? "python") as ContextRuntime;
    if (!(CONTEXT_RUNTIMES as readonly string[]).includes(runtime)) {
      throw new UsageError(`Cannot start a repl for "${runtime}": not a runtime`, `use one of ${CONTEXT_RUNTIMES.join(", ")}`);
    }
    const timeoutMs = flags.timeout === undefined ? undefined : Number(flags.timeout);
    if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) throw new UsageError(`Cannot use --timeout "${flags.timeout}": not a number of ms`);
    if (flags["session-id"] && !flags.host) throw new UsageError("Cannot use --session-id without --host");
    const interactive = Boolean(standardInput().isTTY);
    // Node's streams: readline needs them, and a cell's output is written as it comes.
    const stdout = nodeStream("stdout");
    const stderr = nodeStream("stderr");
    const progress = createProgressRenderer(stderr, { verbose: Boolean(flags.debug) });
    const remote = flags.host
      ? new RemoteIsol8({ host: flags.host, ...(flags.key ? { apiKey: flags.key } : {}), sessionId: flags["session-id"] ?? `repl-${crypto.randomUUID()}` })
      : null;
    const local = remote ? null : new DockerIsol8({ mode: "persistent", config, ...(debugLog ? { log: debugLog } : {}), onImageProgress: progress });
    const engine = remote ?? local!;
    await engine.start();
    let context: Isol8Context | null = null;
    const outputDir = flags["output-dir"] ?? mkdtempSync(join(tmpdir(), "isol8-repl-"));
    mkdirSync(outputDir, { recursive: true });
    const sink = { dir: outputDir, writeFile: (path: string, data: Uint8Array | string) => writeFileSync(path, data) };
    let saved = 0;
    let running: AbortController | null = null;
    let lines: ReturnType<typeof createInterface> | null = null;
    try {
      context = await engine.createContext({ runtime, ...(flags.image ? { image: flags.image } : {}) });
      progress.done();
      // Made once the context is ready: lines read before the loop below starts would be lost.
      lines = createInterface({ input: nodeStream("stdin"), ...(interactive ? { output: stderr, prompt: ">>> " } : {}), terminal: interactive });
      const input = lines;
      const iterator = input[Symbol.asyncIterator]();
      input.on("SIGINT", () => {
        if (running) running.abort();
        else stderr.write("\n(:quit or Ctrl-D to leave)\n");
        if (interactive) input.prompt();
      });
      if (interactive) stderr.write(`isol8 repl: ${runtime} in a sandbox (:help for commands)\n`);
      const reader = new CellReader(cellSyntax(runtime));
      const runCell = async (code: string) => {
        if (code.trim() === ":quit" || code.trim() === ":exit") return false;
        if (code.trim() === ":help") {
          stderr.write(HELP);
          return true;
        }
        if (code.trim() === ":restart") {
          await context!.restart();
          stderr.write("isol8: restarted\n");
          return true;
        }
        running = new AbortController();
        try {
          const result = await context!.run(code, {
            ...(timeoutMs ? { timeoutMs } : {}),
            signal: running.signal,
            onStdout: (text) => stdout.write(text),
            onStderr: (text) => stderr.write(text),
            onResult: (bundle) => stdout.write(renderBundle(bundle, ++saved, sink)),
          });
          stderr.write(renderEnd(result));
        } catch (error) {
          stderr.write(`isol8: ${(error as Error).message}\n`);
        } finally {
          running = null;
        }
        return true;
      };
      if (interactive) input.prompt();
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        for (const cell of reader.push(next.value)) if (!(await runCell(cell))) return 0;
        if (interactive) {
          input.setPrompt(reader.pending ? "... " : ">>> ");
          input.prompt();
        }
      }
      for (const cell of reader.end()) if (!(await runCell(cell))) return 0;
      return 0;
    } finally {
      lines?.close();
      progress.done();
      await context?.close().catch(() => {});
      await engine.stop();
    }
  },
});
