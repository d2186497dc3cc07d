// The file API over HTTP against real containers (F-series): every refusal is the client's
// (4xx naming why), never a retryable 5xx; uploads up to the documented 10 MiB maxFileSize
// round-trip byte for byte; special files left by a program (FIFO, socket, links, locked
// paths) are refused at once and the session goes on in the same container.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serverProcesses, type StartedServer } from "./server-process";

const KEY = "files-e2e-key";
const SESSION = "files";
const servers = serverProcesses("isol8-files-");
let server: StartedServer;

const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
const execute = async (code: string) =>
  (await (await fetch(`${server.url}/execute`, { method: "POST", headers, body: JSON.stringify({ request: { code }, sessionId: SESSION }) })).json()) as {
    stdout: string;
    stderr: string;
  };
const getFile = (path: string) => fetch(`${server.url}/file?${new URLSearchParams({ sessionId: SESSION, path })}`, { headers });
const putFile = (path: string, content: Uint8Array | string) =>
  fetch(`${server.url}/file`, { method: "POST", headers, body: JSON.stringify({ sessionId: SESSION, path, content: Buffer.from(content).toString("base64") }) });

beforeAll(async () => {
  server = await servers.start({ keys: [KEY] });
  // What a program may leave behind: a link out of /sandbox, a link planted where a client will write, a FIFO.
  const setup = await execute(
    [
      "import os",
      "open('/tmp/target', 'w').write('original')",
      "os.symlink('/etc/passwd', '/sandbox/escape')",
      "os.symlink('/tmp/target', '/sandbox/planted')",
      "os.mkfifo('/sandbox/fifo')",
      "print('ready')",
    ].join("\n"),
  );
  expect(setup.stdout).toBe("ready\n");
}, 60_000);
afterAll(() => servers.cleanup());

/** The status and body of an answer, checking it is never a retryable 5xx. */
async function answer(response: Response): Promise<{ status: number; body: { code?: string; message?: string; reason?: string; retryable?: boolean } }> {
  // A refusal's details are in `error`; a success has none (its fields are not checked here).
  const body = ((await response.json()) as { error?: { code?: string; message?: string; reason?: string; retryable?: boolean } }).error ?? {};
  expect(response.status).toBeLessThan(500);
  expect(body.retryable).toBeUndefined();
  return { status: response.status, body };
}

describe("isol8 serve: file refusals are 4xx", () => {
  test("a missing file → 404 not-found", async () => {
    const { status, body } = await answer(await getFile("/sandbox/missing.txt"));
    expect(status).toBe(404);
    expect(body.reason).toBe("not-found");
  });

  test("a symlink escaping /sandbox → 400 outside-sandbox; the target's bytes never appear", async () => {
    const { status, body } = await answer(await getFile("/sandbox/escape"));
    expect(status).toBe(400);
    expect(body.reason).toBe("outside-sandbox");
    expect(JSON.stringify(body)).not.toContain("root:");
  });

  test("a FIFO → 400 not-regular-file, answered at once", async () => {
    const started = performance.now();
    const { status, body } = await answer(await getFile("/sandbox/fifo"));
    expect(status).toBe(400);
    expect(body.reason).toBe("not-regular-file");
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("a write onto a planted symlink → 409 symlink; the link's target is unchanged", async () => {
    const { status, body } = await answer(await putFile("/sandbox/planted", "overwritten"));
    expect(status).toBe(409);
    expect(body.reason).toBe("symlink");
    const check = await execute("import os; print(open('/tmp/target').read(), os.path.islink('/sandbox/planted'))");
    expect(check.stdout).toBe("original True\n");
  });

  test.each([
    ["a 256-byte name", `/sandbox/${"n".repeat(256)}`],
    ["a newline in the name", "/sandbox/a\nb"],
    ["a control character in the name", "/sandbox/a\u0001b"],
    ["DEL in the name", "/sandbox/a\u007fb"],
  ])("%s → 400 for reading and writing, nothing written", async (_name, path) => {
    for (const response of [await putFile(path, "x"), await getFile(path)]) {
      const { status } = await answer(response);
      expect(status).toBe(400);
    }
    const listing = await execute("import os, sys; print(sorted(n for n in os.listdir('/sandbox') if '/sandbox/' + n != sys.argv[0]))");
    expect(listing.stdout).toBe("['escape', 'fifo', 'planted']\n");
  });

  test("twin: a 255-byte name is written and read back", async () => {
    const path = `/sandbox/${"n".repeat(255)}`;
    expect((await answer(await putFile(path, "fits"))).status).toBe(200);
    const read = await getFile(path);
    expect(Buffer.from(((await read.json()) as { content: string }).content, "base64").toString()).toBe("fits");
    await execute(`import os; os.remove(${JSON.stringify(path)})`);
  });
});

describe("isol8 serve: uploads under maxFileSize (10 MiB)", () => {
  test.each([6_000_000, 9_900_000])("%d bytes are accepted and read back identical", async (size) => {
    const bytes = new Uint8Array(size);
    let x = size;
    for (let i = 0; i < size; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    const put = await answer(await putFile("/sandbox/upload.bin", bytes));
    expect(put.status).toBe(200);
    const read = await getFile("/sandbox/upload.bin");
    expect(read.status).toBe(200);
    const back = Buffer.from(((await read.json()) as { content: string }).content, "base64");
    expect(back.length).toBe(size);
    expect(Buffer.compare(back, Buffer.from(bytes))).toBe(0);
    await execute("import os; os.remove('/sandbox/upload.bin')");
  }, 60_000);

  test("over 10 MiB → 413 before anything is written", async () => {
    const { status } = await answer(await putFile("/sandbox/big.bin", new Uint8Array(10 * 1024 * 1024 + 1)));
    expect(status).toBe(413);
  }, 30_000);
});

describe("isol8 serve: special files never wedge a session (F13)", () => {
  const SPECIAL = "special-files";
  const inSession = (request: object) => fetch(`${server.url}/execute`, { method: "POST", headers, body: JSON.stringify({ request, sessionId: SPECIAL }) });
  const get = (path: string) => fetch(`${server.url}/file?${new URLSearchParams({ sessionId: SPECIAL, path })}`, { headers });
  const put = (path: string, content: string) =>
    fetch(`${server.url}/file`, { method: "POST", headers, body: JSON.stringify({ sessionId: SPECIAL, path, content: Buffer.from(content).toString("base64") }) });
  const containerOf = async () => {
    const listed = (await (await fetch(`${server.url}/sessions`, { headers })).json()) as { sessions: { id: string; containerId: string }[] };
    return listed.sessions.find((s) => s.id === SPECIAL)?.containerId;
  };
  let container: string | undefined;

  beforeAll(async () => {
    // What a program may leave behind for a client to read or write: a FIFO (opening it for
    // writing with no reader blocks forever), a socket, a link to a device, a link loop, a
    // directory, a file and a directory the sandbox user locked itself out of.
    const setup = await inSession({
      code: [
        "import os, socket",
        "os.mkfifo('/sandbox/fifo')",
        "socket.socket(socket.AF_UNIX).bind('/sandbox/sock')",
        "os.symlink('/dev/zero', '/sandbox/zero')",
        "os.symlink('/sandbox/loop-b', '/sandbox/loop-a'); os.symlink('/sandbox/loop-a', '/sandbox/loop-b')",
        "os.mkdir('/sandbox/dir')",
        "open('/sandbox/locked', 'w').write('x'); os.chmod('/sandbox/locked', 0)",
        "os.mkdir('/sandbox/shut'); open('/sandbox/shut/f', 'w').write('x'); os.chmod('/sandbox/shut', 0)",
        "print('ready')",
      ].join("\n"),
    });
    expect(((await setup.json()) as { stdout: string }).stdout).toBe("ready\n");
    container = await containerOf();
    expect(container).toBeString();
  }, 60_000);

  // [path, GET status and reason, POST status and reason]
  test.each([
    ["/sandbox/fifo", [400, "not-regular-file"], [400, "not-regular-file"]],
    ["/sandbox/sock", [400, "not-regular-file"], [400, "not-regular-file"]],
    ["/sandbox/zero", [400, "outside-sandbox"], [409, "symlink"]],
    ["/sandbox/loop-a", [400, "outside-sandbox"], [409, "symlink"]],
    ["/sandbox/dir", [400, "not-regular-file"], [400, "not-regular-file"]],
    ["/sandbox/locked", [403, "permission-denied"], [403, "permission-denied"]],
    ["/sandbox/shut/f", [403, "permission-denied"], [403, "permission-denied"]],
    ["/sandbox/fifo/below", [404, "not-found"], [400, "not-regular-file"]],
  ] as const)("%s: GET and POST /file are refused with a 4xx in < 1 s", async (path, [getStatus, getReason], [putStatus, putReason]) => {
    for (const [method, call, status, reason] of [
      ["GET", () => get(path), getStatus, getReason],
      ["POST", () => put(path, "written"), putStatus, putReason],
    ] as const) {
      const started = performance.now();
      const { status: got, body } = await answer(await call());
      const elapsed = performance.now() - started;
      expect([method, got, body.reason]).toEqual([method, status, reason]);
      expect(elapsed).toBeLessThan(1000);
    }
  });

  test("still works: the same session, in the same container, runs its next program and uses the FIFO; a regular file round-trips", async () => {
    const ran = await inSession({
      // The FIFO works as one: opened read-write (never blocks), a byte goes through it.
      code: "import os, stat\nfd = os.open('/sandbox/fifo', os.O_RDWR)\nos.write(fd, b'k')\nprint(stat.S_ISFIFO(os.stat('/sandbox/fifo').st_mode), os.read(fd, 1))",
    });
    expect(((await ran.json()) as { stdout: string }).stdout).toBe("True b'k'\n");
    expect(await containerOf()).toBe(container);
    expect((await answer(await put("/sandbox/regular.txt", "round trip"))).status).toBe(200);
    const read = await get("/sandbox/regular.txt");
    expect(read.status).toBe(200);
    expect(Buffer.from(((await read.json()) as { content: string }).content, "base64").toString()).toBe("round trip");
  }, 60_000);
});
