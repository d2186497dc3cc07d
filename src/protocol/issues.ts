import * as v from "valibot";

/** valibot issues as `path: message` lines (`(root)` when the issue is about the whole value). */
export function formatIssues(issues: readonly v.BaseIssue<unknown>[]): string[] {
  return issues.map((issue) => {
    const path = v.getDotPath(issue) ?? "(root)";
    if (issue.kind === "schema" && issue.type === "strict_object" && issue.expected === "never") {
      return `${path}: unknown key`;
    }
    return `${path}: ${issue.message}`;
  });
}
