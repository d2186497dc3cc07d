import { createDockerClient, type DaemonInfo } from "../../engine/docker";
import { DEFAULT_IMAGE_REPOSITORY, imageNames } from "../../engine/images/image-names";
import { UsageError } from "../../errors";
import { ISOLATION_RUNTIMES, type IsolationRuntime } from "../../protocol/execution";
import { RUNTIME_NAMES } from "../../runtimes/registry";
import { runAttacks } from "../../doctor/attack";
import { type CheckResult, exitCodeOf, runChecks } from "../../doctor/check";
import { HOST_CHECKS, localFreeBytes } from "../../doctor/host-checks";
import { debugArgs } from "../arg-fragments";
import { defineIsol8Command } from "../command";
import { standardOutput } from "../std-streams";

const doctorArgs = {
  json: { type: "boolean", description: "Print one JSON document instead of lines" },
  attack: { type: "boolean", description: "Also run the built-in escape and leak attempts against sandboxes of this host" },
  isolation: { type: "string", description: "With --attack: runtimes to attack, comma-separated: runc,gvisor (default: security.runtime)" },
  ...debugArgs,
} as const;

/** `--isolation runc,gvisor` -> the runtimes, each checked. */
export function parseIsolationList(text: string | undefined, fallback: IsolationRuntime): IsolationRuntime[] {
  if (text === undefined) return [fallback];
  const names = text.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = names.find((n) => !(ISOLATION_RUNTIMES as readonly string[]).includes(n));
  if (bad !== undefined || names.length === 0) throw new UsageError(`Cannot use --isolation "${text}": expected ${ISOLATION_RUNTIMES.join(" | ")}, comma-separated`);
  return [...new Set(names)] as IsolationRuntime[];
}

function line(result: CheckResult): string {
  const mark = { pass: "pass", warn: "warn", fail: "FAIL" }[result.status];
  const fix = result.fix && result.status !== "pass" ? `\n      fix: ${result.fix}` : "";
  return `${mark}  ${result.name}${result.required ? "" : " (optional)"}: ${result.detail}${fix}\n`;
}

export default defineIsol8Command({
  meta: { name: "doctor", description: "Check this host for isol8 (exit 1 when a must-have fails); --attack also attacks its sandboxes" },
  args: doctorArgs,
  async run({ flags, config, debugLog }) {
    const isolations = parseIsolationList(flags.isolation, config.security.runtime);
    if (flags.isolation !== undefined && !flags.attack) throw new UsageError("Cannot use --isolation without --attack", "isol8 doctor --attack --isolation runc,gvisor");
    const docker = createDockerClient();
    let info: Promise<DaemonInfo> | undefined;
    const print = (result: CheckResult) => {
      if (!flags.json) standardOutput().write(line(result));
    };
    const hostResults = await runChecks(HOST_CHECKS, {
      docker,
      config,
      images: imageNames(process.env.ISOL8_IMAGE_REPOSITORY || DEFAULT_IMAGE_REPOSITORY),
      runtimeNames: RUNTIME_NAMES,
      info: () => (info ??= docker.info()),
      freeBytes: localFreeBytes,
    });
    hostResults.forEach(print);
    const attackResults: CheckResult[] = [];
    if (flags.attack) {
      if (exitCodeOf(hostResults) !== 0) {
        if (!flags.json) standardOutput().write("isol8: a must-have check failed: the attacks are not run\n");
      } else {
        for (const isolation of isolations) {
          attackResults.push(...(await runAttacks({ config, isolation, ...(debugLog ? { log: debugLog } : {}), ...(process.env.ISOL8_SCOPE ? { scope: process.env.ISOL8_SCOPE } : {}), onResult: print })));
        }
      }
    }
    const all = [...hostResults, ...attackResults];
    const code = flags.attack && attackResults.length === 0 ? 1 : exitCodeOf(all);
    if (flags.json) {
      standardOutput().write(`${JSON.stringify({ ok: code === 0, checks: hostResults, ...(flags.attack ? { attacks: attackResults } : {}) }, null, 2)}\n`);
    } else {
      const failed = all.filter((r) => r.status === "fail");
      const warned = all.filter((r) => r.status === "warn");
      standardOutput().write(`${all.length - failed.length - warned.length} passed, ${warned.length} warning(s), ${failed.length} failed\n`);
    }
    return code;
  },
});
