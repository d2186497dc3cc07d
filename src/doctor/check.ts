// The shape of one `isol8 doctor` check and of its answer. A check never throws for what it
// finds on the host: that is its verdict; only a check that cannot run at all fails as "fail".

/** pass: fine; warn: works, but weaker or slower than it could be; fail: fix it before use. */
export type Status = "pass" | "warn" | "fail";

export interface Verdict {
  status: Status;
  /** What was found, one line. */
  detail: string;
  /** How to fix it (warn and fail). */
  fix?: string;
}

export interface CheckResult extends Verdict {
  name: string;
  /** A must-have: a failing one makes `isol8 doctor` exit non-zero. */
  required: boolean;
}

export interface Check<Context> {
  name: string;
  required: boolean | ((context: Context) => boolean);
  run(context: Context): Promise<Verdict> | Verdict;
}

export const pass = (detail: string): Verdict => ({ status: "pass", detail });
export const warn = (detail: string, fix: string): Verdict => ({ status: "warn", detail, fix });
export const fail = (detail: string, fix: string): Verdict => ({ status: "fail", detail, fix });

/** Runs each check in order; a check that throws is a failure naming the error. */
export async function runChecks<Context>(checks: readonly Check<Context>[], context: Context): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const required = typeof check.required === "function" ? check.required(context) : check.required;
    let verdict: Verdict;
    try {
      verdict = await check.run(context);
    } catch (error) {
      verdict = fail(`the check could not run: ${(error as Error).message}`, "see the message; run isol8 doctor --debug for more");
    }
    results.push({ name: check.name, required, ...verdict });
  }
  return results;
}

/** Exit code of a doctor run: 1 when a must-have failed, else 0. */
export function exitCodeOf(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === "fail" && r.required) ? 1 : 0;
}
