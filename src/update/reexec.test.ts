import { describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reexec, withoutFlag } from "./reexec";
import { runForwarding } from "./run-forwarding";

describe("reexec", () => {
  test("resolves with the child's exit code", async () => {
    expect(await reexec(["-e", "process.exit(7)"])).toBe(7);
    expect(await reexec(["-e", "0"])).toBe(0);
  });

  test("a child ended by a signal gives 128 + its number", async () => {
    expect(await reexec(["-e", "process.kill(process.pid, 'SIGTERM'); setTimeout(() => {}, 5000)"])).toBe(143);
  });

  test("passes on a signal this process receives", async () => {
    // The child reports its own SIGTERM as exit 42 and writes a file once it listens; the
    // test then sends SIGTERM to itself.
    const ready = join(tmpdir(), `isol8-reexec-${process.pid}`);
    const child = `process.on('SIGTERM', () => process.exit(42)); require('fs').writeFileSync(${JSON.stringify(ready)}, ''); setTimeout(() => {}, 5000)`;
    const running = runForwarding(process.execPath, ["-e", child]);
    for (let i = 0; i < 200 && !existsSync(ready); i++) await Bun.sleep(25);
    rmSync(ready, { force: true });
    const keep = () => {};
    process.on("SIGTERM", keep); // so the test process itself survives
    try {
      process.kill(process.pid, "SIGTERM");
      expect(await running).toEqual({ code: 42 });
    } finally {
      process.off("SIGTERM", keep);
    }
  });

  test("a missing executable is an error naming it", async () => {
    await expect(reexec([], "/nonexistent/isol8")).rejects.toThrow('Cannot run "/nonexistent/isol8": ENOENT');
  });

  test("withoutFlag drops every --update", () => {
    expect(withoutFlag(["serve", "--update", "--port", "0", "--update=true"], "--update")).toEqual(["serve", "--port", "0"]);
  });
});
