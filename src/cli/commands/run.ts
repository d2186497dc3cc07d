import { createWriteStream, type WriteStream } from "node:fs";
import { RemoteIsol8 } from "../../client/remote";
import { Isol8Error, UsageError } from "../../errors";
import type { ExecutionResult, ExecutionSummary } from "../../protocol/execution";
import type { Isol8 } from "../../protocol/isol8";
import { sizeToBytes } from "../../protocol/sizes";
import { createRuntimeRegistry } from "../../runtimes/registry";
import { debugArgs, limitArgs, remoteArgs, runtimeArgs } from "../arg-fragments";
import { defineIsol8Command } from "../command";
import { createProgressRenderer } from "../progress";
import { resolveCodeSource } from "../run/code-source";
import { programArgs, programStdin } from "../run/program-input";
import { eventBytes, outputBytes } from "../../protocol/output-bytes";
import { collectLocalFiles } from "../run/local-files";
import { writeOutputFiles } from "../run/output-files";
import { asFlagError, requestFromFlags } from "../run/request-from-flags";
import { statsLine } from "../run/stats-line";
import { outputWriter } from "../terminal";
import { daemonPaths, findLocalDaemon, unixFetch } from "../local-daemon";
import { standardError, standardInput, standardOutput } from "../std-streams";

export const runArgs = {
  file: { type: "positional", required: false, description: "Program file; the runtime follows its extension" },
  eval: { type: "string", alias: "e", description: "Code to run (python unless --runtime says otherwise)" },
  ...runtimeArgs,
  net: { type: "string", description: "Network: none (default) | filtered | host" },
  isolation: { type: "string", description: "Container runtime: runc | gvisor (default: security.runtime of the config, runc)" },
  allow: { type: "string", description: "Filtered network: host name pattern (regex) to allow (repeatable)" },
  deny: { type: "string", description: "Filtered network: host name pattern (regex) to refuse; wins over --allow (repeatable)" },
  "log-network": { type: "boolean", description: "Filtered network: print one line per request on stderr after the run" },
  install: { type: "string", description: "Package to install before the run (repeatable); selects the filtered network unless --net is given" },
  ...limitArgs,
  image: { type: "string", description: "Custom image (built FROM an isol8 image)" },
  secret: { type: "string", description: "KEY=VALUE env var masked as *** in output (repeatable)" },
  env: { type: "string", description: "KEY=VALUE env var (repeatable)" },
  stdin: { type: "string", description: "Data for the program's standard input (default: isol8's own stdin when piped)" },
  "stdin-file": { type: "string", description: "File whose bytes are the program's standard input" },
  raw: { type: "boolean", description: "On a terminal, show the program's control characters (colours) as they are instead of escaped" },
  stream: { type: "boolean", default: true, description: "Stream output as produced (--no-stream collects it)" },
  out: { type: "string", description: "Write the program's stdout (or the --json document) to this file" },
  json: { type: "boolean", description: "Print the result as one JSON document (collects output)" },
  stats: { type: "boolean", description: "Print a one-line resource summary (cpu, memory, output, duration) on stderr" },
  persist: { type: "boolean", description: "Keep the container running afterwards and print its id" },
  persistent: { type: "boolean", description: "Use a persistent-mode engine (one container kept for the engine's life)" },
  daemon: {
    type: "boolean",
    default: true,
    description: "Run through the local daemon (isol8 serve --local) when it is yours and runs with this configuration; --no-daemon: always start a container",
  },
  ...debugArgs,
  files: { type: "string", description: "Local file or directory copied into /sandbox (repeatable)" },
  "output-path": { type: "string", description: "/sandbox path copied back after the run (repeatable)" },
  "output-dir": { type: "string", description: "Where --output-path files are written (default: .)" },
  ...remoteArgs,
} as const;

const REPEATABLE = ["allow", "deny", "install", "secret", "env", "files", "output-path"] as const;

/** Exit code of `isol8 run` for a finished execution (see README: exit codes). */
export function exitCodeFor(summary: ExecutionSummary): number {
  if (summary.timedOut) return 124;
  if (summary.oomKilled) return 137;
  return summary.exitCode;
}

export default defineIsol8Command({
  meta: { name: "run", description: "Run code in a sandbox" },
  args: runArgs,
  repeatable: REPEATABLE,
  async run({ flags, positionals, rest, config, debugLog }) {
    const args = programArgs(positionals, rest);
    const stdinSource = standardInput();
    const source = resolveCodeSource({
      file: positionals[0],
      evalCode: flags.eval,
      runtime: flags.runtime,
      stdin: stdinSource,
      runtimes: createRuntimeRegistry(),
    });
    const stdin = programStdin({
      ...(flags.stdin !== undefined ? { text: flags.stdin } : {}),
      ...(flags["stdin-file"] !== undefined ? { file: flags["stdin-file"] } : {}),
      codeFromStdin: source.fromStdin,
      stdin: stdinSource,
    });
    const request = requestFromFlags(flags, {
      code: source.code,
      runtime: source.runtime.name,
      fileExtension: source.fileExtension,
      ...(source.programFile ? { programFile: source.programFile } : {}),
      ...(flags.files.length ? { files: collectLocalFiles(flags.files) } : {}),
      ...(stdin !== undefined ? { stdin } : {}),
      ...(args ? { args } : {}),
    });

    const progress = createProgressRenderer(standardError(), { verbose: Boolean(flags.debug) });
    if (!flags.host && (flags.key || flags["session-id"])) throw new UsageError("Cannot use --key or --session-id without --host");
    if (flags.host && (flags.persist || flags.persistent)) {
      throw new UsageError("Cannot use --persist or --persistent with --host", "use --session-id for a persistent container on the server");
    }
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    let outFile: WriteStream | undefined;
    /** Whether anything of the run reached the user (then it is never run again elsewhere). */
    let produced = false;

    /** Runs the request on `engine` and prints what it gives; returns the exit code. */
    const runOn = async (engine: Isol8): Promise<number> => {
      outFile ??= flags.out ? createWriteStream(flags.out) : undefined;
      const raw = Boolean(flags.raw);
      const writeStdout = outFile ? outputWriter(outFile) : outputWriter(standardOutput(), { raw });
      const writeStderr = outputWriter(standardError(), { raw });
      let summary: ExecutionSummary | undefined;
      if (flags.stream !== false && !flags.json) {
        for await (const event of engine.executeStream(request, { signal: abort.signal })) {
          produced = true;
          if (event.type === "stdout") writeStdout(event.data, event.base64 === undefined ? undefined : eventBytes(event));
          else if (event.type === "stderr") writeStderr(event.data, event.base64 === undefined ? undefined : eventBytes(event));
          else if (event.type === "exit") summary = event.data;
          else throw new Isol8Error(event.data);
        }
      } else {
        const result: ExecutionResult = await engine.execute(request, { signal: abort.signal });
        produced = true;
        summary = result;
        if (flags.json) {
          const doc = `${JSON.stringify(result, null, 2)}\n`;
          if (outFile) outFile.write(doc);
          else standardOutput().write(doc);
        } else {
          writeStdout(result.stdout, result.stdoutBase64 === undefined ? undefined : outputBytes(result, "stdout"));
          writeStderr(result.stderr, result.stderrBase64 === undefined ? undefined : outputBytes(result, "stderr"));
        }
      }
      progress.done();
      if (!summary) throw new Isol8Error("Cannot run the program: the execution ended without a result");
      report(summary, sizeToBytes(request.maxOutputSize ?? config.defaults.maxOutputSize), Boolean(flags.persist));
      if (flags.stats) standardError().write(`isol8: ${statsLine(summary)}\n`);
      if (summary.files && Object.keys(summary.files).length) writeOutputFiles(summary.files, flags["output-dir"] ?? ".");
      return abort.signal.aborted ? 130 : exitCodeFor(summary);
    };

    try {
      if (flags.host) {
        const remote = new RemoteIsol8({
          host: flags.host,
          ...(flags.key ? { apiKey: flags.key } : {}),
          ...(flags["session-id"] ? { sessionId: flags["session-id"] } : {}),
        });
        await remote.start();
        // A remote session outlives the run (that is its point).
        return await runOn(remote);
      }
      // The local daemon (isol8 serve --local), when it is this user's own and runs with this
      // configuration. What it refuses or cannot do before anything ran goes the one-shot way.
      if (flags.daemon !== false && !flags.persist && !flags.persistent) {
        const daemon = findLocalDaemon(daemonPaths(process.env), config);
        if ("socket" in daemon) {
          try {
            // No /health round trip first: a daemon that does not answer fails the request before anything ran.
            const remote = new RemoteIsol8({ host: "http://localhost", apiKey: daemon.key, fetch: unixFetch(daemon.socket) });
            debugLog?.(`running through the local daemon at ${daemon.socket}`);
            return await runOn(remote);
          } catch (error) {
            if (produced || abort.signal.aborted) throw error;
            debugLog?.(`local daemon not used: ${(error as Error).message}`);
          }
        } else debugLog?.(`local daemon not used: ${daemon.reason}`);
      }
      // Loaded only here: the daemon path starts without the engine (and Docker's client).
      const { DockerIsol8 } = await import("../../engine/engine");
      const local = new DockerIsol8({
        config,
        persist: Boolean(flags.persist),
        pool: false,
        // Docker removes the container after a clean run (AutoRemove): the CLI does not wait.
        removeInBackground: true,
        ...(flags.persistent ? { mode: "persistent" as const } : {}),
        ...(process.env.ISOL8_SCOPE ? { scope: process.env.ISOL8_SCOPE } : {}),
        // The CLI decides (--debug, --no-debug, config debug): the engine never logs on its own.
        log: debugLog ?? (() => {}),
        onImageProgress: progress,
        // stdout carries the program's output: audit destination "stdout" goes to stderr.
        audit: { write: (line) => standardError().write(line) },
      });
      /** The run ended with a result and was not interrupted: the container's removal is Docker's (AutoRemove). */
      let finished = false;
      try {
        // Docker must answer within the run's own budget (at most 10 s): a run never waits longer for it.
        await local.start({ timeoutMs: Math.min(request.timeoutMs ?? config.defaults.timeoutMs, 10_000) });
        const code = await runOn(local);
        finished = !abort.signal.aborted;
        return code;
      } finally {
        // A local engine removes its containers. After a clean, finished run Docker removes the
        // container itself (AutoRemove): nothing to wait for. Otherwise (error, Ctrl-C) the
        // removal is waited for as before.
        await local.stop(finished ? { waitMs: 0 } : {});
      }
    } catch (error) {
      // A request the engine refused names the flag the user typed, not the library's field.
      throw asFlagError(error);
    } finally {
      progress.done();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (outFile) await new Promise<void>((resolve) => outFile!.end(resolve));
    }
  },
});

/** One line on stderr for each thing the user should know about the run. */
function report(summary: ExecutionSummary, maxOutput: number, persist: boolean): void {
  const say = (line: string) => standardError().write(`isol8: ${line}\n`);
  if (summary.truncated) say(`output truncated at ${maxOutput} bytes per stream (maxOutputSize)`);
  if (summary.timedOut) say(`timed out after ${summary.durationMs} ms (every process of the run was killed)`);
  if (summary.oomKilled) say("killed by the memory limit");
  else if (summary.resourceUsage.killReason === "memory-limit") say(`ran out of memory (exit ${summary.exitCode}: the runtime's own limit, set from the memory limit)`);
  for (const missing of summary.missingFiles ?? []) say(`output path not read: ${missing}: ${summary.fileErrors?.[missing] ?? "not found"}`);
  for (const entry of summary.networkLogs ?? []) {
    const target = entry.path === null ? `${entry.host}:${entry.port}` : `${entry.host}${entry.port === 80 ? "" : `:${entry.port}`}${entry.path}`;
    say(`net ${entry.timestamp} ${entry.action} ${entry.method} ${target} ${entry.status ?? "-"} ${entry.durationMs}ms${entry.reason ? ` (${entry.reason})` : ""}`);
  }
  if (persist) say(`container ${summary.containerId} kept for inspection (remove it with: isol8 cleanup)`);
}
