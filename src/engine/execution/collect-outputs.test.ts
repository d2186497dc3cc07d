import { describe, expect, test } from "bun:test";
import type { FileRefusal } from "../supervisor/protocol";
import { fileErrorText } from "./collect-outputs";

describe("fileErrorText", () => {
  test.each<[FileRefusal, "maxOutputFileSize" | "maxOutputFilesTotal", string]>([
    [{ reason: "too-large", detail: "is 2048 bytes, over the 1024 byte limit" }, "maxOutputFileSize", "file is 2048 bytes, over the 1024 byte limit (maxOutputFileSize)"],
    [{ reason: "too-large", detail: "is 2048 bytes, over the 100 byte limit" }, "maxOutputFilesTotal", "file is 2048 bytes, over the 100 byte limit (maxOutputFilesTotal)"],
    [{ reason: "not-found", detail: "no such file or directory" }, "maxOutputFileSize", "no such file or directory"],
    [{ reason: "outside-sandbox", detail: "a symbolic link leads out of /sandbox" }, "maxOutputFilesTotal", "a symbolic link leads out of /sandbox"],
  ])("%p (%s) → %p", (refusal, limit, text) => {
    expect(fileErrorText(refusal, limit)).toBe(text);
  });
});
