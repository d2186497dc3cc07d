// A bad request throws one RequestError naming the field, before any container is
// created, from execute() and executeStream() alike. Paired with a valid request through
// the same counting client, which does create a container.
import { afterAll, describe, expect, test } from "bun:test";
import type { ExecutionRequest } from "../../src/protocol/execution";
import { ConfigError, RequestError } from "../../src/errors";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";
import { countingDocker, rejection } from "./execution-helpers";

const { docker, created } = countingDocker();
const engine = testEngine({ docker });
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

const bad: { name: string; request: unknown; field: string | RegExp }[] = [
  { name: "timeoutMs: -1", request: { code: "print(1)", timeoutMs: -1 }, field: "timeoutMs" },
  { name: "timeoutMs: 1.5", request: { code: "print(1)", timeoutMs: 1.5 }, field: "timeoutMs" },
  { name: 'runtime: "cobol"', request: { code: "print(1)", runtime: "cobol" }, field: "runtime" },
  { name: "env with a bad name", request: { code: "print(1)", env: { "BAD-NAME": "x" } }, field: /^env\b/ },
  { name: "env with a NUL in a value", request: { code: "print(1)", env: { OK: "a\0b" } }, field: /^env\b/ },
  { name: "secrets with a bad name", request: { code: "print(1)", secrets: { "1ST": "x" } }, field: /^secrets\b/ },
  { name: "code missing", request: { runtime: "python" }, field: "code" },
  { name: "maxOutputSize nonsense", request: { code: "print(1)", maxOutputSize: "lots" }, field: "maxOutputSize" },
  { name: "an unknown field", request: { code: "print(1)", timeout: 5 }, field: "timeout" },
  { name: "a file with a non-text, non-bytes value", request: { code: "print(1)", files: { "a.txt": 5 } }, field: /^files\b/ },
  { name: 'fileExtension ".py" for node', request: { code: "1", runtime: "node", fileExtension: ".py" }, field: "fileExtension" },
  { name: "an allow pattern RE2 cannot run (lookbehind)", request: { code: "1", network: "filtered", allow: ["(?<=a)b"] }, field: "allow" },
  { name: "a deny pattern with a backreference", request: { code: "1", network: "filtered", deny: ["(a)\\1"] }, field: "deny" },
  { name: "an IP shorthand as a host name", request: { code: "1", network: "filtered", allow: ["127.1"] }, field: "allow" },
];

describe("config validation", () => {
  test("a config whose host patterns RE2 cannot run is refused when the engine is made (ConfigError naming the keys)", () => {
    expect(() => testEngine({ config: { network: { blacklist: ["(?=x)"] } } })).toThrow(ConfigError);
    expect(() => testEngine({ config: { network: { whitelist: ["(?<=a)b"] } } })).toThrow("network.whitelist / network.blacklist");
  });

  test("still works: plain names, *.domain and RE2 expressions are accepted", () => {
    expect(() => testEngine({ config: { network: { whitelist: ["api.example.test", "*.example.test", "(.*\\.)?other\\.test"] } } })).not.toThrow();
  });
});

describe("request validation", () => {
  for (const { name, request, field } of bad) {
    test(`${name} → RequestError naming the field, no container`, async () => {
      const before = created();
      const error = await rejection(engine.execute(request as ExecutionRequest));
      expect(error).toBeInstanceOf(RequestError);
      const named = (error as RequestError).field;
      if (typeof field === "string") expect(named).toBe(field);
      else expect(named).toMatch(field);
      expect(created()).toBe(before);
    });
  }

  test("executeStream throws the same RequestError before yielding any event", async () => {
    const before = created();
    const events: unknown[] = [];
    const error = await rejection(
      (async () => {
        for await (const event of engine.executeStream({ code: "print(1)", timeoutMs: -1 })) events.push(event);
      })(),
    );
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).field).toBe("timeoutMs");
    expect(events).toEqual([]);
    expect(created()).toBe(before);
  });

  test("the message names the field and the value problem", async () => {
    const error = await rejection(engine.execute({ code: "1", runtime: "cobol" } as unknown as ExecutionRequest));
    expect(error.message).toContain("runtime");
    expect(error.message).toContain("cobol");
  });

  test("still works: a valid request through the same client creates a container and runs", async () => {
    const before = created();
    const result = await engine.execute({ code: "print(1)", timeoutMs: 10_000 });
    expect(result.stdout).toBe("1\n");
    expect(created()).toBeGreaterThan(before);
  });
});
