import { afterAll, describe, expect, test } from "bun:test";
import { ElsewhereError, FORWARDED_HEADER, forwardRequest, INSTANCE_HEADER } from "./forward";
import { HttpError } from "./http";

// The owner instance: a loopback server that echoes what it received.
const owner = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    const url = new URL(request.url);
    return Response.json(
      { method: request.method, path: url.pathname + url.search, body: await request.text(), headers: Object.fromEntries(request.headers) },
      { headers: { [INSTANCE_HEADER]: "i-owner", connection: "keep-alive" } },
    );
  },
});
afterAll(() => owner.stop(true));
const ownerUrl = `http://127.0.0.1:${owner.port}`;

describe("forwarding a request to the instance that holds its session", () => {
  test("method, path, query, the caller's headers and the JSON body already read go to the owner; its answer comes back", async () => {
    const request = new Request("http://b.test/file?sessionId=s&path=/sandbox/x", { method: "GET", headers: { authorization: "Bearer k", "x-request-id": "r-1", "last-event-id": "3" } });
    const answer = await forwardRequest(request, new ElsewhereError('session "s"', "i-owner", ownerUrl), "i-b", { read: false, value: undefined });
    expect(answer.status).toBe(200);
    expect(answer.headers.get(INSTANCE_HEADER)).toBe("i-owner");
    const seen = (await answer.json()) as { method: string; path: string; headers: Record<string, string> };
    expect(seen).toMatchObject({ method: "GET", path: "/file?sessionId=s&path=/sandbox/x" });
    expect(seen.headers).toMatchObject({ authorization: "Bearer k", "x-request-id": "r-1", "last-event-id": "3", [FORWARDED_HEADER]: "i-b" });

    const post = new Request("http://b.test/execute", { method: "POST", headers: { authorization: "Bearer k", "content-type": "application/json" }, body: "{}" });
    await post.text(); // the handler read it
    const body = { request: { code: "print(1)" }, sessionId: "s" };
    const forwarded = (await (await forwardRequest(post, new ElsewhereError('session "s"', "i-owner", ownerUrl), "i-b", { read: true, value: body })).json()) as { body: string };
    expect(JSON.parse(forwarded.body)).toEqual(body);
  });

  test("a request already forwarded once, or an owner without a URL, is 421 misdirected naming the owner", async () => {
    const again = new Request("http://b.test/file?sessionId=s&path=/x", { headers: { [FORWARDED_HEADER]: "i-a" } });
    const refusal = await forwardRequest(again, new ElsewhereError('session "s"', "i-owner", ownerUrl), "i-b", { read: false, value: undefined }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(HttpError);
    expect((refusal as HttpError).status).toBe(421);
    expect((refusal as HttpError).body.code).toBe("misdirected");
    expect((refusal as HttpError).headers.location).toBe(ownerUrl);
    const nowhere = await forwardRequest(new Request("http://b.test/x"), new ElsewhereError('session "s"', "i-owner", null), "i-b", { read: false, value: undefined }).catch((e: unknown) => e);
    expect((nowhere as HttpError).status).toBe(421);
  });

  test("an owner that does not answer: 502, retryable", async () => {
    const gone = `http://127.0.0.1:1`;
    const refusal = await forwardRequest(new Request("http://b.test/x"), new ElsewhereError('session "s"', "i-gone", gone), "i-b", { read: false, value: undefined }).catch((e: unknown) => e);
    expect((refusal as HttpError).status).toBe(502);
    expect((refusal as HttpError).body).toMatchObject({ code: "unavailable", retryable: true });
  });
});
