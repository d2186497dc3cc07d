import { describe, expect, test } from "bun:test";
import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import { createProgressReporter } from "./progress";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("createProgressReporter", () => {
  test("without a progress token nothing is sent", async () => {
    const sent: ServerNotification[] = [];
    const reporter = createProgressReporter(undefined, async (n) => void sent.push(n), { intervalMs: 0 });
    reporter.report("x");
    await sleep(5);
    reporter.stop();
    expect(sent).toEqual([]);
  });

  test("output is sent as the message, coalesced within the interval, with rising progress; nothing after stop", async () => {
    const sent: ServerNotification[] = [];
    const reporter = createProgressReporter("t1", async (n) => void sent.push(n), { intervalMs: 20, heartbeatMs: 60_000 });
    reporter.report("a");
    reporter.report("ab");
    await sleep(40);
    reporter.report("abc");
    await sleep(40);
    reporter.stop();
    reporter.report("abcd");
    await sleep(40);
    expect(sent.map((n) => n.params)).toEqual([
      { progressToken: "t1", progress: 1, message: "ab" },
      { progressToken: "t1", progress: 2, message: "abc" },
    ]);
  });

  test("a silent run gets heartbeats", async () => {
    const sent: ServerNotification[] = [];
    const reporter = createProgressReporter(7, async (n) => void sent.push(n), { heartbeatMs: 10 });
    await sleep(50);
    reporter.stop();
    expect(sent.length).toBeGreaterThan(0);
    expect((sent[0]!.params as { message: string }).message).toMatch(/^running \(\d+ s\)$/);
  });
});
