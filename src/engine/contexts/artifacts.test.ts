import { describe, expect, test } from "bun:test";
import { parseSandboxListing } from "../supervisor/sandbox-listing";
import { changedPaths, mimeTypeOf } from "./artifacts";

describe("artifacts", () => {
  test("parseSandboxListing reads size, mtime and path; skips junk; sees truncation", () => {
    const listing = parseSandboxListing("3\t1.000000001\ta.txt\n10\t2.5\tdir/with space.png\njunk\nx\t1\tbad\ntruncated\n");
    expect([...listing.files.entries()]).toEqual([
      ["a.txt", { size: 3, mtime: "1.000000001" }],
      ["dir/with space.png", { size: 10, mtime: "2.5" }],
    ]);
    expect(listing.truncated).toBe(true);
  });

  test("changedPaths: new files and files whose size or mtime changed, sorted", () => {
    const before = new Map([
      ["same", { size: 1, mtime: "1" }],
      ["grown", { size: 1, mtime: "1" }],
      ["touched", { size: 1, mtime: "1" }],
      ["gone", { size: 1, mtime: "1" }],
    ]);
    const after = new Map([
      ["same", { size: 1, mtime: "1" }],
      ["grown", { size: 2, mtime: "1" }],
      ["touched", { size: 1, mtime: "2" }],
      ["b-new", { size: 0, mtime: "3" }],
    ]);
    expect(changedPaths(before, after)).toEqual(["b-new", "grown", "touched"]);
  });

  test.each([
    ["plot.png", "image/png"],
    ["a/B.JPG", "image/jpeg"],
    ["data.csv", "text/csv"],
    ["report.html", "text/html"],
    ["noext", "application/octet-stream"],
  ])("mimeTypeOf(%p) = %p", (path, mime) => {
    expect(mimeTypeOf(path)).toBe(mime);
  });
});
