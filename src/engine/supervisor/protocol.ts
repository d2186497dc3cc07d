// Wire format between the engine and the in-container supervisor (embedded/supervisor.c):
// frames of [u8 type][u32 big-endian length][payload] over the container's attach stream.

export type FrameType = "W" | "G" | "X" | "K" | "C" | "P" | "H" | "O" | "Y" | "Q" | "L";

export interface Frame {
  type: string;
  payload: Buffer;
}

export function encodeFrame(type: FrameType, payload: Uint8Array = new Uint8Array()): Buffer {
  const header = Buffer.allocUnsafe(5);
  header.write(type, 0, "latin1");
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/** What the supervisor needs to run one program. */
export interface ExecSpec {
  argv: readonly string[];
  env: readonly string[];
  cwd?: string;
  timeoutMs: number;
  maxOutputBytes: number;
  stdin?: Uint8Array;
  /** Paths (relative to /sandbox) removed after the run. */
  removeAfter?: readonly string[];
  /** Small files written (as the sandbox user) right before the run, in the same frame. */
  files?: readonly { path: string; content: Uint8Array; mode?: number }[];
  /** Start the program from the container's python zygote, when it has one (else as always). */
  zygote?: boolean;
  /** Hand the execution to the container's waiting standby program, when one waits (else as always). */
  standby?: boolean;
}

function tlv(key: string, value: string | Uint8Array): Buffer {
  const data = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
  const header = Buffer.allocUnsafe(5);
  header.write(key, 0, "latin1");
  header.writeUInt32BE(data.length, 1);
  return Buffer.concat([header, data]);
}

export function encodeExec(spec: ExecSpec): Buffer {
  const parts: Buffer[] = [];
  for (const arg of spec.argv) parts.push(tlv("a", arg));
  for (const entry of spec.env) parts.push(tlv("e", entry));
  if (spec.cwd) parts.push(tlv("c", spec.cwd));
  parts.push(tlv("t", String(Math.max(1, Math.round(spec.timeoutMs)))));
  parts.push(tlv("o", String(spec.maxOutputBytes)));
  if (spec.stdin && spec.stdin.length > 0) parts.push(tlv("i", spec.stdin));
  for (const path of spec.removeAfter ?? []) parts.push(tlv("r", path));
  for (const file of spec.files ?? []) parts.push(tlv("f", fileRecord(file.path, file.content, file.mode)));
  if (spec.zygote) parts.push(tlv("z", ""));
  if (spec.standby) parts.push(tlv("p", ""));
  return encodeFrame("X", Buffer.concat(parts));
}

/** [u32 mode][u16 path length][path][content], as in 'W' frames and 'f' entries. */
function fileRecord(relPath: string, content: Uint8Array, mode = 0o644): Buffer {
  const path = Buffer.from(relPath, "utf8");
  const head = Buffer.allocUnsafe(6);
  head.writeUInt32BE(mode, 0);
  head.writeUInt16BE(path.length, 4);
  return Buffer.concat([head, path, content]);
}

export function encodeWrite(relPath: string, content: Uint8Array, mode = 0o644): Buffer {
  return encodeFrame("W", fileRecord(relPath, content, mode));
}

export function encodeRead(relPath: string, maxBytes: number): Buffer {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(Math.min(maxBytes, 0xffffffff), 0);
  return encodeFrame("G", Buffer.concat([head, Buffer.from(relPath, "utf8")]));
}

/**
 * Why the supervisor refused a file operation: the token before ": " in a refused 'w' reply or
 * after the 0 byte of a refused 'g' reply (supervisor.c `refuse_errno` and its callers).
 */
export const FILE_REFUSALS = [
  "not-found",
  "outside-sandbox",
  "symlink",
  "not-regular-file",
  "permission-denied",
  "too-large",
  "invalid-path",
  "io",
] as const;
export type FileRefusalReason = (typeof FILE_REFUSALS)[number];

export interface FileRefusal {
  reason: FileRefusalReason;
  /** For people: what is at the path, or why it cannot be used. */
  detail: string;
}

/** `<reason>: <detail>` → its parts; anything else (an older or broken supervisor) is an `io` refusal. */
export function parseFileRefusal(text: string): FileRefusal {
  const colon = text.indexOf(": ");
  const token = colon > 0 ? text.slice(0, colon) : "";
  const reason = FILE_REFUSALS.find((known) => known === token);
  return reason ? { reason, detail: text.slice(colon + 2) } : { reason: "io", detail: text };
}

/** The supervisor's ready frame: protocol version, the container's sandbox uid, its pid. */
export interface ReadyReport {
  version: number;
  /** null when the supervisor did not say (an image built before per-container uids). */
  uid: number | null;
}

export function parseReadyReport(payload: Buffer): ReadyReport {
  const kv = parseKeyValues(payload.toString("utf8"));
  const uid = kv.uid !== undefined && /^\d+$/.test(kv.uid) ? Number(kv.uid) : null;
  return { version: Number(kv.version ?? 0) || 0, uid };
}

/** The supervisor's report at the end of an execution. */
export interface ExitReport {
  exitCode: number;
  signal: number;
  reason: "exited" | "timeout" | "output-cap" | "aborted" | "none";
  truncatedStdout: boolean;
  truncatedStderr: boolean;
  oomKilled: boolean;
  pidsLimitHit: boolean;
  cpuUserUs: number;
  cpuSysUs: number;
  maxRssKb: number;
  stdoutBytes: number;
  stderrBytes: number;
  durationUs: number;
  /** False when processes of the run could not be proven gone: the container must not be reused. */
  clean: boolean;
  error?: string;
  /** A file of the execute frame the supervisor could not write (with `error`): the program never started. */
  refusedFile?: string;
}

export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export function parseExitReport(payload: Buffer): ExitReport {
  const kv = parseKeyValues(payload.toString("utf8"));
  const num = (key: string) => Number(kv[key] ?? 0) || 0;
  const flag = (key: string) => kv[key] === "1";
  return {
    exitCode: kv.exit === undefined ? -1 : Number(kv.exit),
    signal: num("signal"),
    reason: (kv.reason ?? "none") as ExitReport["reason"],
    truncatedStdout: flag("truncated_stdout"),
    truncatedStderr: flag("truncated_stderr"),
    oomKilled: flag("oom_killed"),
    pidsLimitHit: flag("pids_limit_hit"),
    cpuUserUs: num("cpu_user_us"),
    cpuSysUs: num("cpu_sys_us"),
    maxRssKb: num("max_rss_kb"),
    stdoutBytes: num("stdout_bytes"),
    stderrBytes: num("stderr_bytes"),
    durationUs: num("duration_us"),
    clean: kv.clean === undefined ? false : flag("clean"),
    ...(kv.error ? { error: kv.error } : {}),
    ...(kv.refused_file ? { refusedFile: kv.refused_file } : {}),
  };
}

/**
 * Bytes received in chunks, consumed from the front. Chunks are joined only when a
 * caller needs more contiguous bytes than the first chunk holds, so a large frame
 * arriving in many chunks is copied once, not once per chunk.
 */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The first n bytes as one buffer (n <= length), without consuming them. */
  peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.chunks, this.length);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  /** Removes and returns the first n bytes (n <= length). */
  take(n: number): Buffer {
    const out = this.peek(n);
    const first = this.chunks[0]!;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.length -= n;
    return out;
  }

  /** Moves up to target.length - offset bytes from the front into target; returns how many. */
  moveInto(target: Buffer, offset: number): number {
    let moved = 0;
    while (this.chunks.length && offset + moved < target.length) {
      const first = this.chunks[0]!;
      const n = Math.min(first.length, target.length - offset - moved);
      first.copy(target, offset + moved, 0, n);
      moved += n;
      if (n === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    }
    this.length -= moved;
    return moved;
  }
}

/** Frames at least this large are copied into their own buffer as they arrive (see createFrameParser). */
export const DIRECT_FRAME_BYTES = 64 * 1024;

/**
 * Incremental parser for a byte stream of frames. Feed it chunks in any sizes; it calls
 * onFrame once per complete frame, in order. A large frame (a file read back) is copied into
 * a buffer of its own size as its chunks arrive, once: the chunks are not held until the end
 * and then joined (which would hold the frame twice, and its payload a third time if the
 * caller copied it out of the joined buffer). Its payload is then the frame's own memory.
 * `copied` is told the bytes copied into large frames (the channel collects garbage every
 * few MiB of them: the chunks are garbage once copied, see lib/collect-garbage.ts).
 */
export function createFrameParser(
  onFrame: (frame: Frame) => void,
  options: { directBytes?: number; copied?: (bytes: number) => void } = {},
): (chunk: Buffer) => void {
  const { directBytes = DIRECT_FRAME_BYTES, copied = () => {} } = options;
  const queue = new ByteQueue();
  let large: { type: string; payload: Buffer; filled: number } | null = null;
  return (chunk) => {
    queue.push(chunk);
    for (;;) {
      if (large) {
        const moved = queue.moveInto(large.payload, large.filled);
        large.filled += moved;
        copied(moved);
        if (large.filled < large.payload.length) return;
        const { type, payload } = large;
        large = null;
        onFrame({ type, payload });
        continue;
      }
      if (queue.length < 5) return;
      const length = queue.peek(5).readUInt32BE(1);
      if (queue.length >= 5 + length) {
        const frame = queue.take(5 + length);
        onFrame({ type: String.fromCharCode(frame[0]!), payload: frame.subarray(5) });
        continue;
      }
      if (length < directBytes) return;
      const header = queue.take(5);
      large = { type: String.fromCharCode(header[0]!), payload: Buffer.allocUnsafe(length), filled: 0 };
    }
  };
}

/**
 * Splits Docker's multiplexed attach stream ([u8 stream][3 zero bytes][u32 size] headers)
 * into stdout and stderr payloads. A payload that spans chunks is passed on in pieces, as
 * views of the chunks (the frame parser takes bytes in any pieces): nothing is joined or
 * copied but the 8-byte headers.
 */
export function createDockerDemuxer(
  onStdout: (chunk: Buffer) => void,
  onStderr: (chunk: Buffer) => void,
): (chunk: Buffer) => void {
  const header = Buffer.alloc(8);
  let headerBytes = 0;
  let stream = 1;
  let left = 0;
  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (left === 0) {
        const n = Math.min(8 - headerBytes, chunk.length - at);
        chunk.copy(header, headerBytes, at, at + n);
        headerBytes += n;
        at += n;
        if (headerBytes < 8) return;
        headerBytes = 0;
        stream = header[0]!;
        left = header.readUInt32BE(4);
        continue;
      }
      const n = Math.min(left, chunk.length - at);
      const payload = chunk.subarray(at, at + n);
      at += n;
      left -= n;
      if (stream === 2) onStderr(payload);
      else onStdout(payload);
    }
  };
}
