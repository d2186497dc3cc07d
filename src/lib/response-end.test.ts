import { describe, expect, test } from "bun:test";
import { onResponseEnd } from "./response-end";

describe("onResponseEnd", () => {
  test("a response without a body ends at once", () => {
    let ended = 0;
    onResponseEnd(new Response(null, { status: 202 }), () => ended++);
    expect(ended).toBe(1);
  });

  test("a body read to its end ends once, with its bytes, status and headers kept", async () => {
    let ended = 0;
    const response = onResponseEnd(new Response("hello", { status: 201, headers: { "x-a": "1" } }), () => ended++);
    expect(ended).toBe(0);
    expect(response.status).toBe(201);
    expect(response.headers.get("x-a")).toBe("1");
    expect(await response.text()).toBe("hello");
    expect(ended).toBe(1);
  });

  test("a body the client cancels ends, and the source is cancelled", async () => {
    let ended = 0;
    let sourceCancelled = false;
    const source = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array([1])),
      cancel: () => {
        sourceCancelled = true;
      },
    });
    const response = onResponseEnd(new Response(source), () => ended++);
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(ended).toBe(1);
    expect(sourceCancelled).toBe(true);
  });

  test("a body that fails ends", async () => {
    let ended = 0;
    const source = new ReadableStream<Uint8Array>({ pull: (controller) => controller.error(new Error("gone")) });
    const response = onResponseEnd(new Response(source), () => ended++);
    await expect(response.text()).rejects.toThrow("gone");
    expect(ended).toBe(1);
  });
});
