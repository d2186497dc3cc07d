// Runs the attack battery against real sandboxes of this host, under one isolation runtime.
import type { Isol8Config } from "../config/schema";
import { DockerIsol8 } from "../engine/engine";
import type { IsolationRuntime } from "../protocol/execution";
import { type CheckResult, fail } from "./check";
import { ATTACK_CASES, type AttackCase } from "./attack-cases";

export interface AttackOptions {
  config: Isol8Config;
  isolation: IsolationRuntime;
  cases?: readonly AttackCase[];
  log?: (line: string) => void;
  /** Extra label value on the doctor's containers (tests sweep their own). */
  scope?: string;
  /** Called with each result as soon as it is known. */
  onResult?: (result: CheckResult) => void;
}

/**
 * One result per case, named "<case> [<runtime>]". The sandboxes are the config's own (seccomp,
 * limits, network policy) with a warm pool, so pool hygiene is tested as the server uses it.
 */
export async function runAttacks(options: AttackOptions): Promise<CheckResult[]> {
  const config: Isol8Config = { ...options.config, security: { ...options.config.security, runtime: options.isolation }, poolSize: { clean: 1, dirty: 1 } };
  const engine = new DockerIsol8({ config, ...(options.log ? { log: options.log } : {}), ...(options.scope ? { scope: options.scope } : {}) });
  const results: CheckResult[] = [];
  try {
    await engine.start();
    for (const attack of options.cases ?? ATTACK_CASES) {
      let verdict;
      try {
        verdict = await attack.run(engine);
      } catch (error) {
        verdict = fail(`the attack could not run: ${(error as Error).message.split("\n")[0]}`, "run isol8 doctor --attack --debug");
      }
      const result = { name: `${attack.name} [${options.isolation}]`, required: true, ...verdict };
      options.onResult?.(result);
      results.push(result);
    }
  } finally {
    await engine.stop();
  }
  return results;
}
