#!/usr/bin/env node
// The npm package's `bin`: bundled by build.ts to dist/launcher.cjs. Plain Node >= 20 and
// no Bun APIs (it runs before any isol8 binary exists); see launcher.ts.
import { formatError } from "../errors";
import { type ChildOutcome, exitStatus } from "../update/run-forwarding";
import { trustedKeys } from "../update/trusted-keys";
import { VERSION } from "../version";
import { runLauncher } from "./launcher";

/** Ends the launcher the way the binary ended: same exit code, or the same signal. */
function finish(outcome: ChildOutcome): void {
  if (outcome.signal) {
    // Re-raising gives the parent shell the real cause; if the signal is ignored here, fall back to 128+n.
    process.exitCode = exitStatus(outcome);
    process.kill(process.pid, outcome.signal);
    return;
  }
  process.exitCode = outcome.code;
}

runLauncher({ args: process.argv.slice(2), env: process.env, version: VERSION, trustedKeys: trustedKeys() }).then(finish, (error: unknown) => {
  process.stderr.write(`isol8: ${formatError(error)}\n`);
  process.exitCode = 1;
});
