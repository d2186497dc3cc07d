import { describe, expect, test } from "bun:test";
import { currentOwner, ownerGone } from "./owner";

const BOOT = "5b8ecfbd-ed08-4dec-9780-1bf0fa347f73";
/** A fake /proc: pid → stat line. */
function proc(stats: Record<number, string>, boot: string | null = BOOT) {
  return (path: string): string | null => {
    if (path === "/proc/sys/kernel/random/boot_id") return boot ? `${boot}\n` : null;
    const pid = Number(path.match(/^\/proc\/(\d+)\/stat$/)?.[1]);
    return stats[pid] ?? null;
  };
}
/** A stat line whose state is `state` and start time `start` (field 22). */
const stat = (pid: number, comm: string, state: string, start: string) =>
  `${pid} (${comm}) ${state} ${Array.from({ length: 18 }, (_, i) => String(i + 1)).join(" ")} ${start} 0 0\n`;

describe("ownerGone", () => {
  const owner = { pid: 42, start: "9001", boot: BOOT };
  test.each<[string, Record<number, string>, boolean]>([
    ["the same process runs", { 42: stat(42, "isol8", "S", "9001") }, false],
    ["no such process", {}, true],
    ["a zombie (killed, not reaped)", { 42: stat(42, "isol8", "Z", "9001") }, true],
    ["the pid was reused by another process", { 42: stat(42, "bash", "S", "12345") }, true],
    ["a command name with spaces and parentheses", { 42: stat(42, "a (b) c", "R", "9001") }, false],
  ])("%s → gone: %p", (_, stats, gone) => {
    expect(ownerGone(owner, proc(stats), () => true)).toBe(gone);
  });

  test("another machine's (or boot's) owner is never judged gone", () => {
    expect(ownerGone({ ...owner, boot: "other" }, proc({}), () => false)).toBe(false);
  });

  test("without a recorded identity, falls back to pid liveness", () => {
    expect(ownerGone({ pid: 42 }, proc({}), () => true)).toBe(false);
    expect(ownerGone({ pid: 42 }, proc({}), () => false)).toBe(true);
  });

  test("an invalid pid is never judged gone", () => {
    expect(ownerGone({ pid: 0 }, proc({}), () => false)).toBe(false);
  });
});

describe("currentOwner", () => {
  test("reads this process's start time and the boot id", () => {
    const me = currentOwner(proc({ [process.pid]: stat(process.pid, "bun", "R", "777") }));
    expect(me).toEqual({ pid: process.pid, start: "777", boot: BOOT });
  });

  test("on the real /proc, this process is not gone", () => {
    const me = currentOwner();
    expect(ownerGone({ pid: me.pid, start: me.start ?? undefined, boot: me.boot ?? undefined })).toBe(false);
  });
});
