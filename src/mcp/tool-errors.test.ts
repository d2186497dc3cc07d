import { describe, expect, test } from "bun:test";
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { DockerUnavailableError, Isol8Error, RequestError, SandboxError } from "../errors";
import { toMcpError } from "./tool-errors";

/** An isol8 failure that carries a server's error body (the server's HttpError, a remote client's RemoteError). */
const withBody = (body: unknown) => Object.assign(new Isol8Error("Cannot execute: HTTP 403: refused"), { body });

describe("toMcpError", () => {
  const cases: [string, unknown, boolean, { code: number; message: string; data: Record<string, unknown> }][] = [
    [
      "a policy refusal's body: InvalidParams with its field",
      withBody({ code: "policy-denied", message: 'option "network" is not allowed', field: "network" }),
      false,
      { code: ErrorCode.InvalidParams, message: 'option "network" is not allowed', data: { code: "policy-denied", field: "network" } },
    ],
    [
      "an invalid argument: InvalidParams with its field",
      new RequestError("Invalid arguments for run_code: code: expected string", "code"),
      false,
      { code: ErrorCode.InvalidParams, message: "Invalid arguments for run_code: code: expected string", data: { code: "invalid-request", field: "code" } },
    ],
    [
      "a server's overload body: InternalError, retryable",
      withBody({ code: "too-many-requests", message: "too many requests", retryable: true }),
      false,
      { code: ErrorCode.InternalError, message: "too many requests", data: { code: "too-many-requests", retryable: true } },
    ],
    [
      "Docker unavailable, masked for a server's clients",
      new DockerUnavailableError("Cannot connect to /var/run/docker.sock: ENOENT"),
      true,
      { code: ErrorCode.InternalError, message: "container runtime unavailable", data: { code: "docker-unavailable" } },
    ],
    [
      "a sandbox failure, masked for a server's clients",
      new SandboxError("Cannot run: container abc123 exited 137"),
      true,
      { code: ErrorCode.InternalError, message: "sandbox terminated", data: { code: "sandbox-failed" } },
    ],
  ];

  test.each(cases)("%s", (_, error, mask, expected) => {
    const answer = toMcpError(error, { mask, unexpected: () => expect.unreachable() });
    expect(answer.code).toBe(expected.code);
    expect(answer.message).toBe(expected.message);
    expect(answer.data).toMatchObject(expected.data);
  });

  test("a failure that is not isol8's is reported as unexpected and answered without its details", () => {
    const seen: unknown[] = [];
    const answer = toMcpError(new TypeError("x is undefined at /home/u/secret.ts"), { mask: false, unexpected: (e) => seen.push(e) });
    expect(answer).toMatchObject({ code: ErrorCode.InternalError, message: "internal error", data: { code: "internal" } });
    expect(seen).toHaveLength(1);
  });
});
