import { describe, expect, test } from "bun:test";
import { pidsCurrentFiles, readHostTasks } from "./host-tasks";

const ID = "a".repeat(64);

describe("readHostTasks", () => {
  const cases: [string, Record<string, string>, number | null][] = [
    ["cgroup v1, cgroupfs driver", { [`/sys/fs/cgroup/pids/docker/${ID}/pids.current`]: "61\n" }, 61],
    ["cgroup v1, systemd driver", { [`/sys/fs/cgroup/pids/system.slice/docker-${ID}.scope/pids.current`]: "7\n" }, 7],
    ["cgroup v2, cgroupfs driver", { [`/sys/fs/cgroup/docker/${ID}/pids.current`]: "450\n" }, 450],
    ["cgroup v2, systemd driver", { [`/sys/fs/cgroup/system.slice/docker-${ID}.scope/pids.current`]: "2\n" }, 2],
    ["not visible (remote Docker, engine in a container)", {}, null],
    ["unreadable content", { [`/sys/fs/cgroup/docker/${ID}/pids.current`]: "max\n" }, null],
  ];
  test.each(cases)("%s", (_, files, tasks) => {
    const read = (path: string) => {
      if (!(path in files)) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
      return files[path]!;
    };
    expect(readHostTasks(ID, read)).toBe(tasks);
  });

  test("every file is named by the container's full id", () => {
    for (const file of pidsCurrentFiles(ID)) expect(file).toContain(ID);
  });
});
