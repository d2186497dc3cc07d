import { describe, expect, test } from "bun:test";
import {
  createDockerDemuxer,
  createFrameParser,
  encodeExec,
  encodeFrame,
  encodeRead,
  encodeWrite,
  FILE_REFUSALS,
  type Frame,
  parseExitReport,
  parseFileRefusal,
  parseKeyValues,
  parseReadyReport,
} from "./protocol";

/** Decodes a TLV payload ([u8 key][u32 BE length][value]...) by hand. */
function decodeTlv(payload: Buffer): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  let at = 0;
  while (at < payload.length) {
    const key = String.fromCharCode(payload[at]!);
    const length = payload.readUInt32BE(at + 1);
    out.push([key, payload.subarray(at + 5, at + 5 + length)]);
    at += 5 + length;
  }
  expect(at).toBe(payload.length);
  return out;
}

function collect(): { frames: Frame[]; feed: (chunk: Buffer) => void } {
  const frames: Frame[] = [];
  return { frames, feed: createFrameParser((frame) => frames.push({ type: frame.type, payload: Buffer.from(frame.payload) })) };
}

function simplify(frames: Frame[]): [string, string][] {
  return frames.map((f) => [f.type, f.payload.toString("utf8")]);
}

describe("encodeFrame", () => {
  test("[u8 type][u32 BE length][payload]", () => {
    expect(encodeFrame("H", Buffer.from("hi"))).toEqual(Buffer.from([0x48, 0, 0, 0, 2, 0x68, 0x69]));
    expect(encodeFrame("K")).toEqual(Buffer.from([0x4b, 0, 0, 0, 0]));
  });
});

describe("createFrameParser", () => {
  const frames = [
    encodeFrame("H", Buffer.from("hello")),
    encodeFrame("K"),
    encodeFrame("P", Buffer.from("é🙂 multibyte")),
    encodeFrame("C", Buffer.alloc(300, 0x41)),
    encodeFrame("X", Buffer.from([0, 1, 2, 3, 255])),
  ];
  const stream = Buffer.concat(frames);
  const expected: [string, string][] = [
    ["H", "hello"],
    ["K", ""],
    ["P", "é🙂 multibyte"],
    ["C", "A".repeat(300)],
    ["X", Buffer.from([0, 1, 2, 3, 255]).toString("utf8")],
  ];

  test("many frames in one chunk", () => {
    const { frames: got, feed } = collect();
    feed(stream);
    expect(simplify(got)).toEqual(expected);
  });

  test("split at every byte boundary into two chunks", () => {
    for (let i = 0; i <= stream.length; i++) {
      const { frames: got, feed } = collect();
      feed(stream.subarray(0, i));
      feed(stream.subarray(i));
      expect(simplify(got)).toEqual(expected);
    }
  });

  test("one byte at a time", () => {
    const { frames: got, feed } = collect();
    for (const byte of stream) feed(Buffer.from([byte]));
    expect(simplify(got)).toEqual(expected);
  });

  test("empty chunks are harmless", () => {
    const { frames: got, feed } = collect();
    feed(Buffer.alloc(0));
    feed(stream.subarray(0, 3));
    feed(Buffer.alloc(0));
    feed(stream.subarray(3));
    expect(simplify(got)).toEqual(expected);
  });

  test("an incomplete frame is held until the rest arrives", () => {
    const { frames: got, feed } = collect();
    const frame = encodeFrame("H", Buffer.from("abcdef"));
    feed(frame.subarray(0, frame.length - 1));
    expect(got).toHaveLength(0);
    feed(frame.subarray(frame.length - 1));
    expect(simplify(got)).toEqual([["H", "abcdef"]]);
  });

  test("payloads stay intact when the caller reuses its chunk buffer", () => {
    const frames: Frame[] = [];
    const feed = createFrameParser((frame) => frames.push(frame));
    const buffer = Buffer.alloc(stream.length);
    stream.copy(buffer);
    feed(buffer.subarray(0, 20));
    feed(buffer.subarray(20));
    expect(simplify(frames)).toEqual(expected);
  });
});

describe("createFrameParser: large frames copied once into their own buffer", () => {
  const frames = [
    encodeFrame("H", Buffer.from("hello")),
    encodeFrame("G", Buffer.from("a large payload")),
    encodeFrame("K"),
    encodeFrame("C", Buffer.alloc(300, 0x41)),
  ];
  const stream = Buffer.concat(frames);
  const expected: [string, string][] = [
    ["H", "hello"],
    ["G", "a large payload"],
    ["K", ""],
    ["C", "A".repeat(300)],
  ];
  /** The parser with a threshold of 8 bytes: "a large payload" and the 300 bytes take the direct path. */
  const small = () => {
    const got: Frame[] = [];
    return { got, feed: createFrameParser((frame) => got.push({ type: frame.type, payload: Buffer.from(frame.payload) }), { directBytes: 8 }) };
  };

  test("split at every pair of boundaries into three chunks", () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j += 7) {
        const { got, feed } = small();
        feed(stream.subarray(0, i));
        feed(stream.subarray(i, j));
        feed(stream.subarray(j));
        expect(simplify(got)).toEqual(expected);
      }
    }
  });

  test("one byte at a time", () => {
    const { got, feed } = small();
    for (const byte of stream) feed(Buffer.from([byte]));
    expect(simplify(got)).toEqual(expected);
  });

  test("a large payload owns its whole buffer (nothing else is kept alive by it)", () => {
    const got: Frame[] = [];
    let copied = 0;
    const feed = createFrameParser((frame) => got.push(frame), { directBytes: 8, copied: (n) => (copied += n) });
    const big = encodeFrame("G", Buffer.alloc(1000, 7));
    feed(big.subarray(0, 100));
    feed(big.subarray(100));
    expect(got[0]!.payload.length).toBe(1000);
    expect(got[0]!.payload.buffer.byteLength).toBe(1000);
    expect(copied).toBe(1000); // every byte of a large frame is reported copied, once
  });
});

describe("createDockerDemuxer", () => {
  function dockerFrame(stream: 1 | 2, data: string | Buffer): Buffer {
    const payload = typeof data === "string" ? Buffer.from(data) : data;
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  }

  const input = Buffer.concat([
    dockerFrame(1, "out one\n"),
    dockerFrame(2, "err one\n"),
    dockerFrame(1, ""),
    dockerFrame(1, "out é🙂\n"),
    dockerFrame(2, Buffer.alloc(1000, 0x45)),
  ]);

  function run(chunks: Buffer[]): { stdout: string; stderr: string; order: string[] } {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const order: string[] = [];
    const feed = createDockerDemuxer(
      (chunk) => {
        out.push(Buffer.from(chunk));
        order.push("out");
      },
      (chunk) => {
        err.push(Buffer.from(chunk));
        order.push("err");
      },
    );
    for (const chunk of chunks) feed(chunk);
    return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), order };
  }

  test("splits stdout and stderr in one chunk (an empty frame passes nothing on)", () => {
    const { stdout, stderr, order } = run([input]);
    expect(stdout).toBe("out one\nout é🙂\n");
    expect(stderr).toBe(`err one\n${"E".repeat(1000)}`);
    expect(order).toEqual(["out", "err", "out", "err"]);
  });

  test("a payload across chunks is passed on as views of the chunks, never joined", () => {
    const frame = dockerFrame(1, Buffer.alloc(1000, 0x41));
    const parts: Buffer[] = [];
    const feed = createDockerDemuxer((chunk) => parts.push(chunk), () => {});
    const first = frame.subarray(0, 500);
    const second = frame.subarray(500);
    feed(first);
    feed(second);
    expect(parts.map((p) => p.length)).toEqual([492, 508]);
    expect(parts[0]!.buffer).toBe(first.buffer);
    expect(parts[1]!.buffer).toBe(second.buffer);
  });

  test("split at every byte boundary", () => {
    for (let i = 0; i <= input.length; i++) {
      const { stdout, stderr } = run([input.subarray(0, i), input.subarray(i)]);
      expect(stdout).toBe("out one\nout é🙂\n");
      expect(stderr).toBe(`err one\n${"E".repeat(1000)}`);
    }
  });

  test("one byte at a time", () => {
    const { stdout, stderr } = run([...input].map((b) => Buffer.from([b])));
    expect(stdout).toBe("out one\nout é🙂\n");
    expect(stderr).toBe(`err one\n${"E".repeat(1000)}`);
  });
});

describe("encodeExec", () => {
  test("TLV round trip", () => {
    const frame = encodeExec({
      argv: ["python3", "/sandbox/main.py", "é"],
      env: ["A=1", "B=two words"],
      cwd: "/sandbox",
      timeoutMs: 1500.6,
      maxOutputBytes: 1_048_576,
      stdin: Buffer.from([0, 1, 2, 0xff]),
      removeAfter: ["main.py", "stdin.txt"],
    });
    expect(String.fromCharCode(frame[0]!)).toBe("X");
    expect(frame.readUInt32BE(1)).toBe(frame.length - 5);
    const fields = decodeTlv(frame.subarray(5));
    expect(fields.map(([k, v]) => [k, k === "i" ? [...v] : v.toString("utf8")])).toEqual([
      ["a", "python3"],
      ["a", "/sandbox/main.py"],
      ["a", "é"],
      ["e", "A=1"],
      ["e", "B=two words"],
      ["c", "/sandbox"],
      ["t", "1501"],
      ["o", "1048576"],
      ["i", [0, 1, 2, 0xff]],
      ["r", "main.py"],
      ["r", "stdin.txt"],
    ]);
  });

  test("optional fields are left out; the timeout is at least 1 ms", () => {
    const frame = encodeExec({ argv: ["true"], env: [], timeoutMs: 0, maxOutputBytes: 10, stdin: new Uint8Array() });
    const fields = decodeTlv(frame.subarray(5)).map(([k, v]) => [k, v.toString()]);
    expect(fields).toEqual([
      ["a", "true"],
      ["t", "1"],
      ["o", "10"],
    ]);
  });

  test("files travel in the frame as [u32 mode][u16 path length][path][content] records", () => {
    const frame = encodeExec({
      argv: ["true"],
      env: [],
      timeoutMs: 5,
      maxOutputBytes: 1,
      files: [
        { path: "main.py", content: Buffer.from("print(1)\n") },
        { path: "bin/é", content: Buffer.from([0, 255]), mode: 0o755 },
      ],
    });
    const records = decodeTlv(frame.subarray(5)).filter(([key]) => key === "f").map(([, value]) => value);
    const decoded = records.map((record) => {
      const pathLength = record.readUInt16BE(4);
      return {
        mode: record.readUInt32BE(0),
        path: record.subarray(6, 6 + pathLength).toString("utf8"),
        content: [...record.subarray(6 + pathLength)],
      };
    });
    expect(decoded).toEqual([
      { mode: 0o644, path: "main.py", content: [...Buffer.from("print(1)\n")] },
      { mode: 0o755, path: "bin/é", content: [0, 255] },
    ]);
  });

  test.each<[string, { zygote?: boolean; standby?: boolean }, string[]]>([
    ["neither", {}, []],
    ["the python zygote", { zygote: true }, ["z"]],
    ["the standby program", { standby: true }, ["p"]],
  ])("where the program starts: %s → empty %p entries", (_name, where, keys) => {
    const entries = decodeTlv(encodeExec({ argv: ["true"], env: [], timeoutMs: 5, maxOutputBytes: 1, ...where }).subarray(5));
    expect(entries.filter(([key]) => key === "z" || key === "p").map(([key, value]) => `${key}${value.length}`)).toEqual(keys.map((k) => `${k}0`));
  });

  test("an empty argument is kept as an empty value", () => {
    const fields = decodeTlv(encodeExec({ argv: ["echo", ""], env: [], timeoutMs: 5, maxOutputBytes: 1 }).subarray(5));
    expect(fields.map(([k, v]) => [k, v.toString()])).toContainEqual(["a", ""]);
  });
});

describe("encodeWrite and encodeRead", () => {
  test("encodeWrite: [u32 mode][u16 path length][path][content]", () => {
    const frame = encodeWrite("dir/é.txt", Buffer.from("data"), 0o755);
    expect(String.fromCharCode(frame[0]!)).toBe("W");
    const payload = frame.subarray(5);
    expect(frame.readUInt32BE(1)).toBe(payload.length);
    expect(payload.readUInt32BE(0)).toBe(0o755);
    const pathLength = payload.readUInt16BE(4);
    expect(payload.subarray(6, 6 + pathLength).toString()).toBe("dir/é.txt");
    expect(payload.subarray(6 + pathLength).toString()).toBe("data");
  });

  test("encodeWrite defaults to mode 0644", () => {
    expect(encodeWrite("a", Buffer.alloc(0)).subarray(5).readUInt32BE(0)).toBe(0o644);
  });

  test("encodeRead: [u32 max bytes][path], max clamped to u32", () => {
    const frame = encodeRead("out.bin", 4096);
    expect(String.fromCharCode(frame[0]!)).toBe("G");
    expect(frame.subarray(5).readUInt32BE(0)).toBe(4096);
    expect(frame.subarray(9).toString()).toBe("out.bin");
    expect(encodeRead("x", 2 ** 40).subarray(5).readUInt32BE(0)).toBe(0xffffffff);
  });
});

describe("parseKeyValues", () => {
  test("splits lines at the first '='", () => {
    expect(parseKeyValues("a=1\nb=x=y\n\nnoequals\n=novalue\nc=")).toEqual({ a: "1", b: "x=y", c: "" });
  });
});

describe("parseExitReport", () => {
  test("a full report", () => {
    const report = parseExitReport(
      Buffer.from(
        [
          "exit=3",
          "signal=9",
          "reason=timeout",
          "truncated_stdout=1",
          "truncated_stderr=0",
          "oom_killed=1",
          "pids_limit_hit=1",
          "cpu_user_us=1200",
          "cpu_sys_us=300",
          "max_rss_kb=20480",
          "stdout_bytes=10",
          "stderr_bytes=20",
          "duration_us=123456",
          "clean=1",
          "error=setpriv failed: x=y",
          "refused_file=main.py",
        ].join("\n"),
      ),
    );
    expect(report).toEqual({
      exitCode: 3,
      signal: 9,
      reason: "timeout",
      truncatedStdout: true,
      truncatedStderr: false,
      oomKilled: true,
      pidsLimitHit: true,
      cpuUserUs: 1200,
      cpuSysUs: 300,
      maxRssKb: 20480,
      stdoutBytes: 10,
      stderrBytes: 20,
      durationUs: 123456,
      clean: true,
      error: "setpriv failed: x=y",
      refusedFile: "main.py",
    });
  });

  test("an empty report: no exit code, not clean, no error", () => {
    const report = parseExitReport(Buffer.alloc(0));
    expect(report.exitCode).toBe(-1);
    expect(report.reason).toBe("none");
    expect(report.clean).toBe(false);
    expect(report.truncatedStdout).toBe(false);
    expect(report.cpuUserUs).toBe(0);
    expect("error" in report).toBe(false);
    expect("refusedFile" in report).toBe(false);
  });

  test("garbage numbers become 0; flags are true only for '1'", () => {
    const report = parseExitReport(Buffer.from("exit=0\nsignal=abc\noom_killed=yes\nclean=0\nmax_rss_kb="));
    expect(report.exitCode).toBe(0);
    expect(report.signal).toBe(0);
    expect(report.oomKilled).toBe(false);
    expect(report.clean).toBe(false);
    expect(report.maxRssKb).toBe(0);
  });
});

describe("parseFileRefusal", () => {
  const cases: [string, { reason: string; detail: string }][] = [
    ["not-found: no such file or directory", { reason: "not-found", detail: "no such file or directory" }],
    ["outside-sandbox: the path leaves /sandbox", { reason: "outside-sandbox", detail: "the path leaves /sandbox" }],
    ["symlink: is a symbolic link: files are never written through one", { reason: "symlink", detail: "is a symbolic link: files are never written through one" }],
    ["not-regular-file: is a FIFO", { reason: "not-regular-file", detail: "is a FIFO" }],
    ["permission-denied: permission denied for the sandbox user", { reason: "permission-denied", detail: "permission denied for the sandbox user" }],
    ["too-large: is 9 bytes, over the 8 byte limit", { reason: "too-large", detail: "is 9 bytes, over the 8 byte limit" }],
    ["invalid-path: malformed write frame", { reason: "invalid-path", detail: "malformed write frame" }],
    ["io: Input/output error", { reason: "io", detail: "Input/output error" }],
    // anything else (an older or broken supervisor) is an io refusal carrying the whole text
    ["error: x: path escapes /sandbox", { reason: "io", detail: "error: x: path escapes /sandbox" }],
    ["not-a-reason: detail", { reason: "io", detail: "not-a-reason: detail" }],
    ["not-found:no space", { reason: "io", detail: "not-found:no space" }],
    ["", { reason: "io", detail: "" }],
  ];
  test.each(cases)("%p", (text, expected) => {
    expect(parseFileRefusal(text)).toEqual(expected as ReturnType<typeof parseFileRefusal>);
  });

  test("every reason token round-trips", () => {
    for (const reason of FILE_REFUSALS) expect(parseFileRefusal(`${reason}: d`).reason).toBe(reason);
  });
});

describe("parseReadyReport", () => {
  const cases: [string, { version: number; uid: number | null }][] = [
    ["version=2\nuid=1234567\npid=7\n", { version: 2, uid: 1234567 }],
    ["version=1\nuid=10000\npid=7\n", { version: 1, uid: 10000 }],
    ["version=1\npid=7\n", { version: 1, uid: null }],
    ["uid=-1\n", { version: 0, uid: null }],
    ["uid=12a\n", { version: 0, uid: null }],
    ["", { version: 0, uid: null }],
  ];
  test.each(cases)("%p", (text, expected) => {
    expect(parseReadyReport(Buffer.from(text))).toEqual(expected);
  });
});
