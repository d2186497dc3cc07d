import { describe, expect, test } from "bun:test";
import { FileError, type FileErrorReason, RequestError, SandboxError } from "../../errors";
import { fileOperationError } from "./file-errors";
import { FILE_REFUSALS, type FileRefusalReason } from "./protocol";

describe("fileOperationError: what is at the path is the caller's problem", () => {
  const cases: [FileRefusalReason, FileErrorReason][] = [
    ["not-found", "not-found"],
    ["outside-sandbox", "outside-sandbox"],
    ["symlink", "symlink"],
    ["not-regular-file", "not-regular-file"],
    ["permission-denied", "permission-denied"],
    ["too-large", "too-large"],
  ];
  test.each(cases)("%s → FileError %s, exit code 2, with a hint", (refusal, reason) => {
    const error = fileOperationError("read", "dir/f.txt", { reason: refusal, detail: "what is there" });
    expect(error).toBeInstanceOf(FileError);
    expect((error as FileError).reason).toBe(reason);
    expect(error.message).toBe('Cannot read "/sandbox/dir/f.txt": what is there');
    expect(error.exitCode).toBe(2);
    expect(error.hint).toBeTruthy();
  });

  test("a name the supervisor cannot use is a RequestError on the path", () => {
    const error = fileOperationError("write", "x", { reason: "invalid-path", detail: "a name or the path is too long" });
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).field).toBe("path");
    expect(error.message).toBe('Cannot write "/sandbox/x": a name or the path is too long');
  });

  test("only an unexpected failure is the sandbox's (SandboxError)", () => {
    const error = fileOperationError("write", "x", { reason: "io", detail: "Input/output error" });
    expect(error).toBeInstanceOf(SandboxError);
    expect(error).not.toBeInstanceOf(FileError);
  });

  test("every reason the supervisor sends has a mapping", () => {
    for (const reason of FILE_REFUSALS) {
      expect(fileOperationError("read", "x", { reason, detail: "d" }).message).toBe('Cannot read "/sandbox/x": d');
    }
  });
});
