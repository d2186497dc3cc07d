// timeoutMs bounds the whole execution: on expiry every process of the run is killed,
// detached ones included, and the result says timedOut. The host sees container
// processes, so `ps` on the host proves what survived.
import { afterAll, describe, expect, test } from "bun:test";
import { hostProcessesMatching, TEST_ISOLATION, testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";
import { streamRun } from "./execution-helpers";

const engine = testEngine();
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

// Distinct, unlikely sleep lengths mark the processes of each test on the host.
const PY_MARKER = "987654";
const BASH_MARKER = "987653";
const STREAM_MARKER = "987652";
const EXIT_MARKER = "987651";
const BREAK_MARKER = "987650";

describe("timeout", () => {
  test("python: a detached grandchild (new session) does not survive the timeout", async () => {
    expect(hostProcessesMatching(PY_MARKER)).toEqual([]);
    const result = await engine.execute({
      runtime: "python",
      // Room for the program to start its grandchild and print first: on a host where a fork
      // costs milliseconds, a loaded CI run once took more than 1 s to get there.
      timeoutMs: 5000,
      code: [
        "import subprocess, time",
        `subprocess.Popen(['sleep', '${PY_MARKER}'], start_new_session=True)`,
        'print("started", flush=True)',
        "time.sleep(600)",
      ].join("\n"),
    });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(137);
    expect(result.resourceUsage.killReason).toBe("timeout");
    // Output produced before the timeout is kept.
    expect(result.stdout).toBe("started\n");
    expect(hostProcessesMatching(PY_MARKER)).toEqual([]);
  }, 60_000);

  test("bash: setsid nohup sleep & does not survive the timeout", async () => {
    expect(hostProcessesMatching(BASH_MARKER)).toEqual([]);
    const result = await engine.execute({
      runtime: "bash",
      timeoutMs: 1000,
      code: `setsid nohup sleep ${BASH_MARKER} &\necho started\nsleep 600`,
    });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(137);
    expect(result.stdout).toBe("started\n");
    expect(hostProcessesMatching(BASH_MARKER)).toEqual([]);
  }, 60_000);

  test("the host does see a detached sleeper while the run is alive (the check above can fail)", async () => {
    // Paired with the tests above: while the program still runs, the same host check finds
    // its detached process; after the timeout it is gone.
    let seenWhileRunning: string[] = [];
    const events: string[] = [];
    for await (const event of engine.executeStream({
      runtime: "python",
      timeoutMs: 3000,
      code: [
        "import subprocess, time",
        `subprocess.Popen(['sleep', '${STREAM_MARKER}'], start_new_session=True)`,
        'print("started", flush=True)',
        "time.sleep(600)",
      ].join("\n"),
    })) {
      events.push(event.type);
      if (event.type === "stdout" && event.data.includes("started")) seenWhileRunning = hostProcessesMatching(STREAM_MARKER);
      if (event.type === "exit") expect(event.data.timedOut).toBe(true);
    }
    // Under gVisor the sandbox's processes live in gVisor's own kernel: the host cannot see
    // them at all (there the in-sandbox checks of pool.test.ts prove nothing survives).
    if (TEST_ISOLATION === "gvisor") expect(seenWhileRunning).toEqual([]);
    else expect(seenWhileRunning.length).toBeGreaterThan(0);
    expect(events.at(-1)).toBe("exit");
    expect(hostProcessesMatching(STREAM_MARKER)).toEqual([]);
  }, 60_000);

  test("a sub-second timeout (300 ms) is honoured", async () => {
    // The program would finish normally after 0.9 s; a timeout rounded up to a second or
    // more would let it print "finished" and exit 0.
    const result = await engine.execute({
      runtime: "python",
      timeoutMs: 300,
      code: 'import time\ntime.sleep(0.9)\nprint("finished")',
    });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(137);
    expect(result.stdout).toBe("");
  }, 60_000);

  test("a program that ends within its timeout is not timed out", async () => {
    const result = await engine.execute({ runtime: "python", timeoutMs: 10_000, code: 'import time\ntime.sleep(0.2)\nprint("done")' });
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("done\n");
    expect(result.resourceUsage.killReason).toBeNull();
  }, 60_000);

  test("streaming: the exit event says timedOut and carries exit code 137", async () => {
    const run = await streamRun(engine, { runtime: "bash", timeoutMs: 500, code: "echo tick\nsleep 600" });
    expect(run.stdout).toBe("tick\n");
    expect(run.exit.timedOut).toBe(true);
    expect(run.exit.exitCode).toBe(137);
  }, 60_000);

  test("a program ignoring SIGTERM is still stopped by the timeout", async () => {
    const result = await engine.execute({
      runtime: "python",
      timeoutMs: 1000,
      code: "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)",
    });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(137);
  }, 60_000);

  test("a program that closes its stdout and stderr is still stopped by the timeout", async () => {
    const result = await engine.execute({
      runtime: "python",
      timeoutMs: 1000,
      code: "import os, time\nos.close(1)\nos.close(2)\ntime.sleep(600)",
    });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(137);
  }, 60_000);
});

describe("the end of the main program ends the run", () => {
  test("background processes left behind are killed and the run does not wait for them", async () => {
    // The sleeper inherits stdout: were the run to wait for the pipe to close, it would
    // run into the 60 s timeout instead of ending with the main program.
    const result = await engine.execute({
      runtime: "bash",
      timeoutMs: 60_000,
      code: `sleep ${EXIT_MARKER} &\nsetsid sleep ${EXIT_MARKER} &\necho main done`,
    });
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("main done\n");
    expect(hostProcessesMatching(EXIT_MARKER)).toEqual([]);
  }, 90_000);
});

describe("stopping a run early", () => {
  test("breaking out of executeStream stops the program and everything it started", async () => {
    const seen: string[] = [];
    for await (const event of engine.executeStream({
      runtime: "python",
      timeoutMs: 60_000,
      code: [
        "import subprocess, time",
        `subprocess.Popen(['sleep', '${BREAK_MARKER}'], start_new_session=True)`,
        'print("started", flush=True)',
        "time.sleep(600)",
      ].join("\n"),
    })) {
      seen.push(event.type);
      if (event.type === "stdout") break;
    }
    expect(seen).toEqual(["stdout"]);
    expect(hostProcessesMatching(BREAK_MARKER)).toEqual([]);
    // The engine is usable afterwards.
    const next = await engine.execute({ runtime: "bash", code: "echo next" });
    expect(next.stdout).toBe("next\n");
  }, 90_000);

  test("an AbortSignal stops execute(): the result says aborted, not timed out", async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 300);
    try {
      const result = await engine.execute(
        { runtime: "python", timeoutMs: 60_000, code: "import time\ntime.sleep(600)" },
        { signal: controller.signal },
      );
      expect(result.timedOut).toBe(false);
      expect(result.exitCode).toBe(137);
      expect(result.resourceUsage.killReason).toBe("aborted");
    } finally {
      clearTimeout(timer);
    }
  }, 90_000);
});
