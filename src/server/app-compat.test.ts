// Answers that clients written for isol8 0.x read: the 403 message, POST /cleanup's ok, GET /runtimes.
import { describe, expect, test } from "bun:test";
import { defaultConfig } from "../config/schema";
import type { RuntimeInfo } from "../protocol/runtime-info";
import { call, fakeEngine, makeApp } from "../../test/server-fixtures";

describe("answers isol8 0.x clients read", () => {
  test("a wrong key is 403 with \"Invalid API key\"", async () => {
    const { app } = makeApp();
    const response = await call(app, "POST", "/execute", { request: { code: "1" } }, "wrong-key");
    expect(response.status).toBe(403);
    expect(JSON.stringify(await response.json())).toContain("Invalid API key");
  });

  test("POST /cleanup answers ok: true with its counts", async () => {
    const { app } = makeApp();
    const response = await call(app, "POST", "/cleanup", { images: false });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, sessions: 0, containers: 0, images: 0 });
  });
});

describe("GET /runtimes", () => {
  const runtimes: RuntimeInfo[] = [
    { name: "python", extensions: [".py"], image: "isol8:python", imageStatus: "present", versions: {} },
    { name: "node", extensions: [".mjs", ".js", ".cjs"], image: "isol8:node", imageStatus: "missing", versions: {} },
  ];

  test("lists the engine's runtimes with their image status; needs the key", async () => {
    const { app } = makeApp(defaultConfig(), fakeEngine(), { runtimes: async () => runtimes });
    const response = await call(app, "GET", "/runtimes");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ runtimes });
    expect((await call(app, "GET", "/runtimes", undefined, null)).status).toBe(401);
  });
});
