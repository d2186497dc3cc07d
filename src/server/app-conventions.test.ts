import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load";
import { defaultConfig } from "../config/schema";
import { parseErrorBody } from "../protocol/errors";
import { call, KEY, makeApp } from "../../test/server-fixtures";
import type { RequestEvent } from "./request-event";

const errorOf = async (response: Response) => {
  const detail = parseErrorBody(await response.json());
  if (!detail) throw new Error("not the error shape");
  return detail;
};

describe("HTTP conventions", () => {
  test("a wrong method → 405 with Allow and the error body", async () => {
    const { app } = makeApp();
    const response = await call(app, "GET", "/execute");
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(await errorOf(response)).toMatchObject({ code: "method-not-allowed" });
    const file = await call(app, "PUT", "/file", {});
    expect(file.status).toBe(405);
    expect(file.headers.get("allow")).toBe("POST, GET");
  });

  test("an unknown route → JSON 404 in the error shape", async () => {
    const { app } = makeApp();
    const response = await call(app, "GET", "/nope", undefined, null);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await errorOf(response)).toMatchObject({ code: "not-found", message: 'no route "/nope"' });
  });

  test("a body that is not JSON → 415 (nothing runs); JSON with a charset or a +json type is accepted", async () => {
    const { app, engine } = makeApp();
    const send = (type: string | null) =>
      app.fetch(
        new Request("http://isol8.test/execute", {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}`, ...(type ? { "content-type": type } : {}) },
          body: JSON.stringify({ request: { code: "1" } }),
        }),
      );
    for (const type of ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"]) {
      const response = await send(type);
      expect(response.status).toBe(415);
      expect(await errorOf(response)).toMatchObject({ code: "unsupported-media-type" });
    }
    expect(engine.seen).toHaveLength(0);
    expect((await send("application/json; charset=utf-8")).status).toBe(200);
    expect((await send("application/vnd.isol8+json")).status).toBe(200);
  });

  test("every failure has the one shape: 400 with field, 401, 403, 413", async () => {
    const { app } = makeApp(parseConfig({ server: { maxBodySize: "1k" } }));
    expect(await errorOf(await call(app, "POST", "/execute", { request: { code: 1 } }))).toMatchObject({ code: "invalid-request" });
    expect(await errorOf(await call(app, "POST", "/execute", { request: { code: "1" } }, null))).toMatchObject({ code: "unauthorized" });
    expect(await errorOf(await call(app, "POST", "/execute", { request: { code: "1" } }, "nope"))).toMatchObject({ code: "forbidden" });
    expect(await errorOf(await call(app, "POST", "/execute", { request: { code: "x".repeat(2000) } }))).toMatchObject({ code: "payload-too-large" });
    const invalid = await call(app, "POST", "/execute", { request: { code: "invalid" } });
    expect(await errorOf(invalid)).toEqual({ code: "invalid-request", message: "Invalid request: code", field: "code" });
  });
});

describe("request ids", () => {
  test("an incoming X-Request-Id is kept and answered; a missing or unsafe one is replaced", async () => {
    const events: RequestEvent[] = [];
    let n = 0;
    const { app } = makeApp(defaultConfig(), undefined, { observe: (e) => events.push(e), newRequestId: () => `gen-${++n}` });
    const ask = (id?: string) =>
      app.fetch(new Request("http://isol8.test/health", { headers: id === undefined ? {} : { "x-request-id": id } }));
    expect((await ask("abc-123")).headers.get("x-request-id")).toBe("abc-123");
    expect((await ask()).headers.get("x-request-id")).toBe("gen-1");
    expect((await ask("bad id\twith spaces")).headers.get("x-request-id")).toBe("gen-2");
    expect((await ask("x".repeat(129))).headers.get("x-request-id")).toBe("gen-3");
    expect(events.map((e) => e.requestId)).toEqual(["abc-123", "gen-1", "gen-2", "gen-3"]);
  });

  test("the request event names the route template, status, principal and client address; the engine gets the id for the audit record", async () => {
    const events: RequestEvent[] = [];
    const { app, engine } = makeApp(defaultConfig(), undefined, { observe: (e) => events.push(e) });
    const response = await app.fetch(
      new Request("http://isol8.test/execute", {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", "x-request-id": "req-7" },
        body: JSON.stringify({ request: { code: "1" } }),
      }),
    );
    expect(response.status).toBe(200);
    expect(engine.contexts.at(-1)?.audit).toMatchObject({ requestId: "req-7" });
    await call(app, "DELETE", "/session/nope", undefined, KEY, { peer: { address: "2001:db8::7", port: 4242 } });
    expect(events.map(({ route, status, method, principal, client }) => ({ route, status, method, principal: principal?.slice(0, 4) ?? null, client }))).toEqual([
      { route: "/execute", status: 200, method: "POST", principal: "key:", client: null },
      { route: "/session/{id}", status: 404, method: "DELETE", principal: "key:", client: "2001:db8::7" },
    ]);
  });
});

describe("CORS", () => {
  const origin = "https://play.example.test";

  test("off by default: no CORS headers, a preflight is a 405", async () => {
    const { app } = makeApp();
    const response = await app.fetch(new Request("http://isol8.test/health", { headers: { origin } }));
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await app.fetch(
      new Request("http://isol8.test/execute", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } }),
    );
    expect(preflight.status).toBe(405);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("a configured origin gets a preflight answer and readable answers; another origin does not", async () => {
    const { app } = makeApp(parseConfig({ server: { corsOrigins: [origin] } }));
    const preflight = await app.fetch(
      new Request("http://isol8.test/execute", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("POST");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    const answer = await app.fetch(new Request("http://isol8.test/health", { headers: { origin } }));
    expect(answer.headers.get("access-control-allow-origin")).toBe(origin);
    expect(answer.headers.get("vary")).toBe("origin");
    const other = await app.fetch(new Request("http://isol8.test/health", { headers: { origin: "https://evil.test" } }));
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("readiness and metrics routes", () => {
  test("/ready: 200 when ready, 503 with the reason otherwise; no key needed", async () => {
    let ready = true;
    const { app } = makeApp(defaultConfig(), undefined, {
      ready: async () => (ready ? { ready: true, checks: { docker: { ok: true } } } : { ready: false, reason: "docker: not answering", checks: { docker: { ok: false, detail: "not answering" } } }),
    });
    const up = await call(app, "GET", "/ready", undefined, null);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: "ready", checks: { docker: { ok: true } } });
    ready = false;
    const down = await call(app, "GET", "/ready", undefined, null);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: "not ready", reason: "docker: not answering" });
    app.close();
    expect(await (await call(app, "GET", "/ready", undefined, null)).json()).toMatchObject({ reason: "server: shutting down" });
  });

  test("/metrics needs an API key, or the metrics token when one is set (which opens nothing else)", async () => {
    const token = "metrics-token-0123456789";
    const metrics = async () => ({ contentType: "text/plain; version=0.0.4", body: "isol8_up 1\n" });
    const plain = makeApp(defaultConfig(), undefined, { metrics });
    expect((await call(plain.app, "GET", "/metrics", undefined, null)).status).toBe(401);
    expect((await call(plain.app, "GET", "/metrics", undefined, token)).status).toBe(403);
    expect(await (await call(plain.app, "GET", "/metrics")).text()).toBe("isol8_up 1\n");
    const withToken = makeApp(parseConfig({ server: { metricsToken: token } }), undefined, { metrics });
    expect((await call(withToken.app, "GET", "/metrics", undefined, token)).status).toBe(200);
    expect((await call(withToken.app, "GET", "/metrics")).status).toBe(200);
    expect((await call(withToken.app, "POST", "/execute", { request: { code: "1" } }, token)).status).toBe(403);
    expect((await call(withToken.app, "GET", "/sessions", undefined, token)).status).toBe(403);
  });
});
