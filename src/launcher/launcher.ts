import { homedir } from "node:os";
import { join } from "node:path";
import { hasGlibc, isReleaseTarget, platformName, RELEASE_TARGETS } from "../update/platform";
import { type ChildOutcome, runForwarding } from "../update/run-forwarding";
import { ensureBinary } from "./ensure-binary";
import { confirm, isInteractive } from "./prompt";

/** The launcher's inputs: its arguments, environment and version. */
export interface LauncherOptions {
  args: readonly string[];
  env: Record<string, string | undefined>;
  /** The version this launcher belongs to (injected by build.ts). */
  version: string;
  /** The release public keys it trusts (injected by build.ts). */
  trustedKeys: readonly string[];
}

/** Where the binary lives: ISOL8_BINARY, else ~/.isol8/bin/isol8. */
export function binaryPath(env: Record<string, string | undefined>): string {
  return env.ISOL8_BINARY || join(homedir(), ".isol8", "bin", "isol8");
}

/**
 * The launcher: finds (or installs) the isol8 binary for this platform and runs it with
 * the same arguments, stdio and signals; resolves with how the binary ended.
 * ISOL8_LAUNCHER_PLATFORM (`<os>-<arch>`) overrides the detected platform, e.g. to run
 * the x64 build under emulation.
 */
export async function runLauncher(options: LauncherOptions): Promise<ChildOutcome> {
  const log = (line: string) => void process.stderr.write(`${line}\n`);
  const platform = options.env.ISOL8_LAUNCHER_PLATFORM || platformName(process.platform, process.arch, hasGlibc());
  if (!isReleaseTarget(platform)) {
    log(`isol8: unsupported platform "${platform}": isol8 binaries exist for ${RELEASE_TARGETS.join(", ")}`);
    return { code: 1 };
  }
  const path = binaryPath(options.env);

  // Interrupting a download must not leave a partial file: abort it, let it clean up, then stop.
  const abort = new AbortController();
  const interrupted: NodeJS.Signals[] = [];
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted.push(signal);
    abort.abort();
  };
  const arm = () => process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  const disarm = () => process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
  arm();
  let ready: boolean;
  try {
    ready = await ensureBinary({
      path,
      target: platform,
      version: options.version,
      env: options.env,
      trustedKeys: options.trustedKeys,
      interactive: isInteractive(),
      // At the prompt, Ctrl-C keeps its default effect: it ends the launcher at once.
      confirm: (question) => {
        disarm();
        try {
          return confirm(question);
        } finally {
          arm();
        }
      },
      log,
      write: (text) => void process.stderr.write(text),
      signal: abort.signal,
    });
  } catch (error) {
    if (interrupted[0]) return { signal: interrupted[0] };
    throw error;
  } finally {
    disarm();
  }
  if (!ready) return { code: 1 };
  return runForwarding(path, options.args);
}
