// The estimate against what re2js really builds: never below it (beyond the few fixed
// instructions every program has), and close to it for ordinary patterns.
import { describe, expect, test } from "bun:test";
import { RE2JS } from "re2js";
import { estimateRegexSize } from "./regex-size";

/** Instructions every program has besides the pattern's own (fail, the outer capture, match). */
const FIXED = 4;
const built = (pattern: string) => RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE).programSize();

describe("estimateRegexSize", () => {
  test.each([
    "a",
    "api\\.allowed\\.test",
    "^(?:[a-z0-9-]{1,63}\\.)*example\\.com$",
    "(a+)+$",
    "(a|a)*$",
    "(.*a){20}",
    "[a-z]{1,999}",
    "(?:a{2,5})",
    "x{3,}",
    "x{0,}",
    "(?i)AbC",
    "(?P<n>ab)+",
    "(?<n>ab)*?",
    "(a|bc|def){3}",
    "(?:(?:a{10}){10}){10}",
    "(?s:.{5})",
    "a{,3}",
    "\\d{3}-\\w+",
    "(?U)a+?",
    "(?:)",
    "(?:a{1,999})(?:b{1,999})",
    "\\b(?:evil|bad)\\b",
    // Text that looks like a repetition but is literal, or the other way round.
    "[]a]{10}",
    "[^]a]{10}",
    "[[:alpha:]]{10}",
    "[{]{10}",
    "[\\]{]{10}",
    "\\Qa.b{5}\\E{7}",
    "\\Q(\\E{9}",
    "\\x{41}{7}",
    "\\x41{7}",
    "\\pL{7}",
    "\\p{Greek}{7}",
    "\\{{9}",
  ])("%j: not below what RE2 builds, and close to it", (pattern) => {
    const size = built(pattern);
    const estimate = estimateRegexSize(pattern);
    expect(estimate + FIXED).toBeGreaterThanOrEqual(size);
    expect(estimate).toBeLessThanOrEqual(size * 1.25 + FIXED);
  });

  test("counted repetitions multiply, nested or in sequence", () => {
    expect(estimateRegexSize("a{1,999}")).toBe(1997);
    expect(estimateRegexSize("(?:a{1,999}){1}(?:a{1,999})")).toBe(3994);
    expect(estimateRegexSize("(?:(?:a{10}){10}){10}")).toBe(1000);
    expect(estimateRegexSize("(?:a{1,999})".repeat(80))).toBe(159_760);
  });

  test("invalid text is still counted, never below its parts", () => {
    expect(estimateRegexSize("((a{500}")).toBeGreaterThanOrEqual(500);
    expect(estimateRegexSize("a{500})b{500}")).toBeGreaterThanOrEqual(1000);
    expect(estimateRegexSize("[a{500}")).toBe(1); // an unclosed class: RE2 refuses it before building anything
  });
});
