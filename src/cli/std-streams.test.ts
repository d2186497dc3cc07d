import { describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DescriptorIo, descriptorSink, readToEnd } from "./std-streams";

const failure = (code: string) => Object.assign(new Error(code), { code });

/** A descriptor whose write(2)/read(2) answers come from a script: a number of bytes, or an error code. */
function scripted(answers: (number | string)[], options: { tty?: boolean; input?: Buffer[] } = {}) {
  const written: number[] = [];
  const calls: string[] = [];
  const input = [...(options.input ?? [])];
  const io: DescriptorIo = {
    write(_fd, bytes, offset) {
      const answer = answers.shift() ?? bytes.length - offset;
      calls.push(`write@${offset}`);
      if (typeof answer === "string") throw failure(answer);
      written.push(...bytes.subarray(offset, offset + answer));
      return answer;
    },
    read(_fd, into) {
      const answer = answers.shift();
      calls.push("read");
      if (typeof answer === "string") throw failure(answer);
      const next = input.shift();
      if (!next) return 0;
      into.set(next);
      return next.length;
    },
    isTTY: () => {
      calls.push("isatty");
      return options.tty ?? false;
    },
    wait: (ms) => void calls.push(`wait ${ms}`),
  };
  return { io, written, calls };
}

describe("descriptorSink", () => {
  test.each<[string, (number | string)[], string[]]>([
    ["one write takes everything", [], ["write@0"]],
    ["a short write is finished where it stopped", [2, 3], ["write@0", "write@2", "write@5"]],
    ["EAGAIN (a descriptor left non-blocking) waits and tries again", ["EAGAIN", "EAGAIN"], ["write@0", "wait 1", "write@0", "wait 1", "write@0"]],
  ])("%s", (_, answers, calls) => {
    const fake = scripted(answers);
    descriptorSink(1, fake.io).write("héllo ✓");
    expect(Buffer.from(fake.written).toString("utf8")).toBe("héllo ✓");
    expect(fake.calls).toEqual(calls);
  });

  test("bytes are written as they are", () => {
    const fake = scripted([]);
    descriptorSink(1, fake.io).write(new Uint8Array([0xff, 0x00, 0x1b]));
    expect(fake.written).toEqual([0xff, 0x00, 0x1b]);
  });

  test("a reader that went away (EPIPE) ends the writing without an error", () => {
    const fake = scripted(["EPIPE"]);
    const sink = descriptorSink(1, fake.io);
    sink.write("a");
    sink.write("b");
    expect(fake.calls).toEqual(["write@0"]);
  });

  test("any other failure (a full disk) is thrown", () => {
    const fake = scripted(["ENOSPC"]);
    expect(() => descriptorSink(1, fake.io).write("a")).toThrow("ENOSPC");
  });

  test("isTTY asks the system once, when first read", () => {
    const fake = scripted([], { tty: true });
    const sink = descriptorSink(2, fake.io);
    expect(fake.calls).toEqual([]);
    expect([sink.isTTY, sink.isTTY]).toEqual([true, true]);
    expect(fake.calls).toEqual(["isatty"]);
  });

  test("a real file descriptor gets the exact bytes", () => {
    const file = join(mkdtempSync(join(tmpdir(), "isol8-sink-")), "out");
    const fd = openSync(file, "w");
    try {
      const sink = descriptorSink(fd);
      sink.write("line ✓\n");
      sink.write(new Uint8Array([0xfe, 0x0a]));
    } finally {
      closeSync(fd);
    }
    expect([...readFileSync(file)]).toEqual([...Buffer.from("line ✓\n"), 0xfe, 0x0a]);
  });
});

describe("readToEnd", () => {
  test("reads every chunk up to the end, waiting on EAGAIN", () => {
    const fake = scripted([1, "EAGAIN", 1, 1], { input: [Buffer.from("ab"), Buffer.from([0xff])] });
    expect([...readToEnd(0, fake.io)]).toEqual([0x61, 0x62, 0xff]);
    expect(fake.calls).toEqual(["read", "read", "wait 1", "read", "read"]);
  });

  test("another failure is thrown", () => {
    expect(() => readToEnd(0, scripted(["EIO"]).io)).toThrow("EIO");
  });

  test("a real file is read whole (beyond one 64 KiB chunk)", () => {
    const file = join(mkdtempSync(join(tmpdir(), "isol8-read-")), "in");
    const data = Buffer.alloc(200_000, 7);
    data[199_999] = 9;
    writeFileSync(file, data);
    const fd = openSync(file, "r");
    try {
      expect(readToEnd(fd).equals(data)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });
});
