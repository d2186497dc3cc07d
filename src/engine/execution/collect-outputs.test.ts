import { describe, expect, test } from "bun:test";
import { fileErrorText } from "./collect-outputs";

describe("fileErrorText", () => {
  test.each<[string, "maxOutputFileSize" | "maxOutputFilesTotal", string]>([
    ["file is 2048 bytes, over the 1024 byte limit", "maxOutputFileSize", "file is 2048 bytes, over the 1024 byte limit (maxOutputFileSize)"],
    ["file is 2048 bytes, over the 100 byte limit", "maxOutputFilesTotal", "file is 2048 bytes, over the 100 byte limit (maxOutputFilesTotal)"],
    ["not found", "maxOutputFileSize", "not found"],
    ["escapes /sandbox", "maxOutputFilesTotal", "escapes /sandbox"],
  ])("%p (%s) → %p", (error, limit, text) => {
    expect(fileErrorText(error, limit)).toBe(text);
  });
});
