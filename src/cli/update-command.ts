import { reexec, withoutFlag } from "../update/reexec";
import { updateSelf } from "../update/self-update";
import { stderrLogger } from "./log";

/**
 * `isol8 serve --update`: replaces this binary with the latest release (signature and checksum verified,
 * atomic), then serves with the new binary: the same arguments without `--update`.
 */
export async function updateAndReexec(rawArgs: string[]): Promise<number> {
  await updateSelf({ log: await stderrLogger() });
  return reexec(["serve", ...withoutFlag(rawArgs, "--update")]);
}
