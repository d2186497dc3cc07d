// The file API (putFile/getFile of a persistent engine) never wedges and says why it refuses
// (docs/SECURITY.md I11, F-series). Whatever a program leaves under /sandbox (FIFOs, sockets,
// symlinks out of /sandbox or to devices, loops, unreadable files), a read or a write is
// refused with a FileError naming the reason, in well under a second (a bound docs/SECURITY.md F13
// states), and the same container keeps working afterwards. A bad name is a RequestError.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FileError, type FileErrorReason, RequestError } from "../../src/errors";
import { testEngine } from "../helpers";
import { ownedContainers } from "./owned-containers";

const engine = testEngine({ mode: "persistent", runtime: "python" });
let containerId = "";
/** How long each refusal took (printed at the end: docs/SECURITY.md F13 bounds it at 1 s). */
const timings: number[] = [];

/** What the earlier execution leaves in /sandbox for the file API to meet. */
const PLANT = `
import os, socket
os.chdir('/sandbox')
open('regular.txt', 'w').write('regular content')
os.mkfifo('fifo')
s = socket.socket(socket.AF_UNIX); s.bind('sock'); s.close()  # the socket file stays, nobody listens
os.symlink('/dev/zero', 'zero')              # a device, through a symlink inside /sandbox
os.symlink('../dev/zero', 'zero-relative')
os.symlink('/etc/passwd', 'passwd')          # a symlink out of /sandbox
os.symlink('/etc', 'etc')                    # a directory out of /sandbox
os.symlink('fifo', 'to-fifo')                # a symlink inside /sandbox to a FIFO
os.symlink('sock', 'to-sock')
os.symlink('regular.txt', 'to-regular')      # a symlink inside /sandbox to a regular file
os.symlink('loop-b', 'loop-a'); os.symlink('loop-a', 'loop-b')
os.mkdir('adir')
open('unreadable.txt', 'w').write('x'); os.chmod('unreadable.txt', 0)
open('readonly.txt', 'w').write('keep'); os.chmod('readonly.txt', 0o444)
print(sorted(os.listdir('.')))
`;

beforeAll(async () => {
  const planted = await engine.execute({ runtime: "python", code: PLANT });
  expect(planted.stderr).toBe("");
  expect(planted.stdout).toContain("'fifo'");
  containerId = planted.containerId;
}, 120_000);

afterAll(async () => {
  const sorted = timings.toSorted((a, b) => a - b);
  console.log(`file API refusals: ${sorted.length}, median ${sorted[sorted.length >> 1]?.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`);
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

/** Runs a file operation that must fail; returns its error and how long it took. */
async function refusal(operation: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await operation().then(
    () => null,
    (caught: unknown) => caught,
  );
  const ms = performance.now() - started;
  timings.push(ms);
  return { error, ms };
}

/** The refusal is a FileError with this reason, answered in under a second. */
function expectFileError(outcome: { error: unknown; ms: number }, reason: FileErrorReason): void {
  expect(outcome.error).toBeInstanceOf(FileError);
  expect((outcome.error as FileError).reason).toBe(reason);
  expect((outcome.error as FileError).message).toMatch(/^Cannot (read|write) "\/sandbox\//);
  expect(outcome.ms).toBeLessThan(1000);
}

/** The same container still runs programs and reads and writes regular files. */
async function expectStillWorks(): Promise<void> {
  const run = await engine.execute({ runtime: "python", code: "print(open('/sandbox/regular.txt').read())" });
  expect(run.stdout).toBe("regular content\n");
  expect(run.containerId).toBe(containerId);
  expect(engine.sessionContainerId).toBe(containerId);
}

describe("getFile refuses what is not a regular file inside /sandbox, at once", () => {
  const cases: [string, string, FileErrorReason][] = [
    ["a FIFO", "/sandbox/fifo", "not-regular-file"],
    ["a unix socket", "/sandbox/sock", "not-regular-file"],
    ["a symlink inside /sandbox to a FIFO", "/sandbox/to-fifo", "not-regular-file"],
    ["a symlink inside /sandbox to a socket", "/sandbox/to-sock", "not-regular-file"],
    ["a directory", "/sandbox/adir", "not-regular-file"],
    ["a device (/dev/zero) through a symlink", "/sandbox/zero", "outside-sandbox"],
    ["a device through a relative symlink", "/sandbox/zero-relative", "outside-sandbox"],
    ["a symlink out of /sandbox", "/sandbox/passwd", "outside-sandbox"],
    ["a path through a symlinked directory out of /sandbox", "/sandbox/etc/passwd", "outside-sandbox"],
    ["a symlink loop", "/sandbox/loop-a", "symlink"],
    ["a missing file", "/sandbox/missing.txt", "not-found"],
    ["a missing directory", "/sandbox/nodir/missing.txt", "not-found"],
    ["a path through a regular file", "/sandbox/regular.txt/x", "not-found"],
    ["a file the sandbox user may not read", "/sandbox/unreadable.txt", "permission-denied"],
  ];
  test.each(cases)("%s (%s) → FileError %s in < 1 s; the container still works", async (_, path, reason) => {
    expectFileError(await refusal(() => engine.getFile(path)), reason);
    await expectStillWorks();
  }, 60_000);

  test("a file over the 64 MiB read limit → FileError too-large in < 1 s, without reading it", async () => {
    const made = await engine.execute({
      runtime: "python",
      code: "import os\nwith open('/sandbox/huge.bin', 'wb') as f: f.truncate(65 * 1024 * 1024)\nprint(os.path.getsize('/sandbox/huge.bin'))",
    });
    expect(made.stdout).toBe(`${65 * 1024 * 1024}\n`);
    const outcome = await refusal(() => engine.getFile("/sandbox/huge.bin"));
    expectFileError(outcome, "too-large");
    expect((outcome.error as FileError).message).toContain("over the 67108864 byte limit");
    await expectStillWorks();
  }, 60_000);

  test("still works: a regular file, and a symlink inside /sandbox to one, are read", async () => {
    expect((await engine.getFile("/sandbox/regular.txt")).toString()).toBe("regular content");
    expect((await engine.getFile("to-regular")).toString()).toBe("regular content");
  });
});

describe("putFile never writes through a symlink and never opens what is not a regular file", () => {
  const cases: [string, string, FileErrorReason][] = [
    ["a FIFO (nobody reads it: an open would wait forever)", "/sandbox/fifo", "not-regular-file"],
    ["a unix socket", "/sandbox/sock", "not-regular-file"],
    ["a directory", "/sandbox/adir", "not-regular-file"],
    ["a symlink inside /sandbox to a regular file", "/sandbox/to-regular", "symlink"],
    ["a symlink inside /sandbox to a FIFO", "/sandbox/to-fifo", "symlink"],
    ["a symlink to a device", "/sandbox/zero", "symlink"],
    ["a symlink out of /sandbox", "/sandbox/passwd", "symlink"],
    ["a file below a symlinked directory out of /sandbox", "/sandbox/etc/isol8-written", "outside-sandbox"],
    ["a file below a regular file", "/sandbox/regular.txt/x", "not-regular-file"],
    ["a file the sandbox user made read-only", "/sandbox/readonly.txt", "permission-denied"],
  ];
  test.each(cases)("%s (%s) → FileError %s in < 1 s; the container still works", async (_, path, reason) => {
    expectFileError(await refusal(() => engine.putFile(path, "written by putFile")), reason);
    await expectStillWorks();
  }, 60_000);

  test("nothing was written through the links: their targets are unchanged", async () => {
    const r = await engine.execute({
      runtime: "python",
      code: "import os\nprint(open('/sandbox/regular.txt').read(), open('/sandbox/readonly.txt').read(), os.path.exists('/etc/isol8-written'), os.path.islink('/sandbox/to-regular'))",
    });
    expect(r.stdout).toBe("regular content keep False True\n");
    expect(r.containerId).toBe(containerId);
  });

  test("still works: a regular file is written, replaced and read back; parents are created", async () => {
    await engine.putFile("/sandbox/new/deep/file.txt", "first");
    await engine.putFile("/sandbox/new/deep/file.txt", "second");
    expect((await engine.getFile("/sandbox/new/deep/file.txt")).toString()).toBe("second");
    const r = await engine.execute({ runtime: "python", code: "print(open('/sandbox/new/deep/file.txt').read())" });
    expect(r.stdout).toBe("second\n");
  });

  test("still works: an upload of 9.5 MB (under the 10 MiB server maxFileSize) round-trips byte for byte", async () => {
    const data = Buffer.alloc(9_500_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
    await engine.putFile("/sandbox/big.bin", data);
    const back = await engine.getFile("/sandbox/big.bin");
    expect(back.length).toBe(data.length);
    expect(back.equals(data)).toBe(true);
  }, 60_000);
});

describe("bad names are RequestErrors, before any container work", () => {
  const cases: [string, string][] = [
    ["a 256-byte name", `/sandbox/${"n".repeat(256)}`],
    ["a 256-byte directory name", `/sandbox/${"d".repeat(256)}/f.txt`],
    ["a newline", "/sandbox/a\nb.txt"],
    ["an escape sequence", "/sandbox/\u001b[31mred.txt"],
    ["a carriage return", "/sandbox/x\r"],
    ["DEL", "/sandbox/del\u007f"],
    ["a NUL byte", "/sandbox/a\u0000b"],
  ];
  test.each(cases)("%s: getFile and putFile throw RequestError in < 1 s; the container still works", async (_, path) => {
    for (const operation of [() => engine.getFile(path), () => engine.putFile(path, "x")]) {
      const { error, ms } = await refusal(operation);
      expect(error).toBeInstanceOf(RequestError);
      expect((error as RequestError).field).toBe("path");
      expect(ms).toBeLessThan(1000);
    }
    await expectStillWorks();
  }, 60_000);

  test("still works: a 255-byte name is written and read", async () => {
    const path = `/sandbox/${"n".repeat(255)}`;
    await engine.putFile(path, "longest name");
    expect((await engine.getFile(path)).toString()).toBe("longest name");
  });
});

describe("outputPaths meet the same refusals without waiting", () => {
  test("a FIFO, a socket and a symlink to a device are listed as missing; the regular file comes back", async () => {
    const started = performance.now();
    const r = await engine.execute({
      runtime: "python",
      code: "print('ran')",
      outputPaths: ["/sandbox/fifo", "/sandbox/sock", "/sandbox/zero", "/sandbox/regular.txt"],
    });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(r.stdout).toBe("ran\n");
    expect(r.missingFiles).toEqual(["/sandbox/fifo", "/sandbox/sock", "/sandbox/zero"]);
    expect(Buffer.from(r.files?.["/sandbox/regular.txt"] ?? "", "base64").toString()).toBe("regular content");
    expect(r.containerId).toBe(containerId);
  }, 60_000);
});
