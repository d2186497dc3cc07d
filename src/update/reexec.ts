import { exitStatus, runForwarding } from "./run-forwarding";

/**
 * Runs this executable again with `args` (stdio inherited, signals passed on) and
 * resolves with its exit status; the caller decides whether to exit with it. `serve
 * --update` uses it to continue as the freshly installed binary:
 *
 *   const result = await updateSelf({ log });
 *   if (result.updated) return reexec(withoutFlag(rawArgs, "--update"));
 */
export async function reexec(args: readonly string[], executable: string = process.execPath): Promise<number> {
  return exitStatus(await runForwarding(executable, args));
}

/** `args` without every occurrence of `flag` (and `flag=value`). */
export function withoutFlag(args: readonly string[], flag: string): string[] {
  return args.filter((arg) => arg !== flag && !arg.startsWith(`${flag}=`));
}
