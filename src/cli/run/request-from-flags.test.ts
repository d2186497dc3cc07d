import { describe, expect, test } from "bun:test";
import { UsageError } from "../../errors";
import type { ExecutionRequest } from "../../protocol/execution";
import { asFlagError, flagForField, keyValues, type RunRequestFlags, requestFromFlags } from "./request-from-flags";
import { RequestError } from "../../errors";
import { thrown } from "../../../test/thrown";

const source = { code: "print(1)", runtime: "python" as const, fileExtension: ".py" };
const base: ExecutionRequest = { code: "print(1)", runtime: "python", fileExtension: ".py" };

const usageError = (fn: () => unknown) => thrown(fn, UsageError);

describe("requestFromFlags", () => {
  test.each<[string, RunRequestFlags, Partial<ExecutionRequest>]>([
    ["no flags", {}, {}],
    ["--timeout 2000", { timeout: "2000" }, { timeoutMs: 2000 }],
    ["--max-output 1k (a size, like --memory)", { "max-output": "1k" }, { maxOutputSize: "1k" }],
    ["--max-output 1024", { "max-output": "1024" }, { maxOutputSize: "1024" }],
    ["--memory 256m", { memory: "256m" }, { memoryLimit: "256m" }],
    ["--cpu 0.5", { cpu: "0.5" }, { cpuLimit: 0.5 }],
    ["--pids-limit 32", { "pids-limit": "32" }, { pidsLimit: 32 }],
    ["--sandbox-size / --tmp-size", { "sandbox-size": "64m", "tmp-size": "16m" }, { sandboxSize: "64m", tmpSize: "16m" }],
    ["--net filtered --allow --deny --log-network", { net: "filtered", allow: ["a\\.test"], deny: ["b"], "log-network": true }, { network: "filtered", allow: ["a\\.test"], deny: ["b"], logNetwork: true }],
    ["--install twice", { install: ["is-number", "left-pad"] }, { installPackages: ["is-number", "left-pad"] }],
    ["--env and --secret", { env: ["A=1", "B=x=y"], secret: ["TOKEN=sk-123456"] }, { env: { A: "1", B: "x=y" }, secrets: { TOKEN: "sk-123456" } }],
    ["--image", { image: "my:1" }, { image: "my:1" }],
    ["--output-path", { "output-path": ["/sandbox/out.txt"] }, { outputPaths: ["/sandbox/out.txt"] }],
    ["empty lists are left out", { install: [], env: [], allow: [] }, {}],
    ["--no-log-network", { "log-network": false }, {}],
    ["--isolation gvisor", { isolation: "gvisor" }, { security: { runtime: "gvisor" } }],
    ["--isolation runc", { isolation: "runc" }, { security: { runtime: "runc" } }],
  ])("%s", (_, flags, expected) => {
    expect(requestFromFlags(flags, source)).toEqual({ ...base, ...expected });
  });

  test("stdin, arguments and the program file's name read by the caller are passed on", () => {
    const stdin = new Uint8Array([0x33, 0x20, 0x34, 0x0a]);
    expect(requestFromFlags({}, { ...source, stdin, args: ["a", "-b"], programFile: "add.py" })).toEqual({
      ...base,
      stdin,
      args: ["a", "-b"],
      programFile: "add.py",
    });
  });

  test("files read by the caller are passed on", () => {
    const files = { "/sandbox/a.txt": new Uint8Array([1, 2]) };
    expect(requestFromFlags({}, { ...source, files }).files).toBe(files);
  });

  test.each<[RunRequestFlags, string]>([
    [{ net: "bogus" }, 'Cannot use --net "bogus": expected none | filtered | host'],
    [{ isolation: "kata" }, 'Cannot use --isolation "kata": expected runc | gvisor'],
    [{ timeout: "soon" }, 'Cannot use --timeout "soon": expected a number'],
    [{ timeout: "0" }, 'Cannot use --timeout "0": Invalid value: Expected >=1 but received 0'],
    [{ timeout: "1.5" }, 'Cannot use --timeout "1.5": Invalid integer: Received 1.5'],
    [{ cpu: "" }, 'Cannot use --cpu "": expected a number'],
    [{ memory: "12x" }, 'Cannot use --memory "12x": expected a size such as "512m", "1g", "256k" or a number of bytes'],
    [{ "max-output": "2g" }, 'Cannot use --max-output "2g": must be at most 1g'],
    [{ env: ["NOEQUALS"] }, 'Cannot use --env "NOEQUALS": expected KEY=VALUE'],
  ])("%j is a usage error naming the flag", (flags, message) => {
    expect(usageError(() => requestFromFlags(flags, source)).message).toBe(message);
  });
});

describe("keyValues", () => {
  test("a repeated key keeps the last value; the value may contain '='", () => {
    expect(keyValues("env", ["A=1", "A=2=3"])).toEqual({ A: "2=3" });
  });

  test.each(["=value", "1A=x", "A-B=x", "A B=x", "", "é=x"])("%p is refused with an example", (item) => {
    const error = usageError(() => keyValues("secret", ["OK=1", item]));
    expect(error.message).toBe(`Cannot use --secret "${item}": expected KEY=VALUE`);
    expect(error.hint).toBe("e.g. --secret TOKEN=abc");
  });
});

describe("flagForField and asFlagError: engine refusals in the user's words", () => {
  test.each<[string | undefined, string | undefined]>([
    ["installPackages", "--install"],
    ["installPackages.0", "--install"],
    ["secrets.TOKEN", "--secret"],
    ["network", "--net"],
    ["memoryLimit", "--memory"],
    ["maxOutputSize", "--max-output"],
    ["outputPaths.3", "--output-path"],
    ["metadata", undefined],
    [undefined, undefined],
  ])("%s → %s", (field, flag) => {
    expect(flagForField(field)).toBe(flag);
  });

  test.each<[RequestError, string]>([
    [new RequestError('Cannot install "--evil": not a plain python package name', "installPackages"), 'Cannot install "--evil": not a plain python package name (--install)'],
    [new RequestError("Invalid request: secrets.A: must be at least 4 bytes", "secrets.A"), "Cannot use --secret: A: must be at least 4 bytes"],
    [new RequestError('Invalid request: network: Invalid type: Expected ("none" | "filtered" | "host")', "network"), 'Cannot use --net: Invalid type: Expected ("none" | "filtered" | "host")'],
  ])("%p", (error, message) => {
    const mapped = asFlagError(error);
    expect(mapped).toBeInstanceOf(UsageError);
    expect((mapped as UsageError).message).toBe(message);
  });

  test("errors without a flag pass unchanged", () => {
    const other = new RequestError("Invalid request: metadata: too large", "metadata");
    expect(asFlagError(other)).toBe(other);
    const plain = new Error("x");
    expect(asFlagError(plain)).toBe(plain);
  });
});
