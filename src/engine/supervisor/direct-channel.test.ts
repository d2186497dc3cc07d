import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { SandboxError } from "../../errors";
import { SupervisorChannel } from "./channel";
import { CHANNEL_SOCKET_NAME, type DirectChannelListener, listenForSupervisor } from "./direct-channel";
import { encodeFrame } from "./protocol";

let runDir: string;
beforeEach(() => {
  runDir = mkdtempSync(join(tmpdir(), "isol8-direct-channel-"));
});
afterEach(() => rmSync(runDir, { recursive: true, force: true }));

/** Connects as the supervisor does; resolves with the connection, or the connect error's code. */
function supervisorConnects(listener: DirectChannelListener): Promise<Socket | string> {
  return new Promise((resolve) => {
    const socket = connect(join(listener.hostDir, CHANNEL_SOCKET_NAME));
    socket.once("connect", () => resolve(socket));
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Bytes a stream receives, as they arrive. */
function received(stream: Readable): Buffer[] {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return chunks;
}

/** One chunk of Docker's multiplexed attach stream (1: stdout, 2: stderr). */
function muxed(stream: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** A frame as the supervisor sends it (encodeFrame writes the engine's types). */
function frame(type: string, payload = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

const READY = frame("R", Buffer.from("version=2\nuid=1000123\npid=7\n"));

describe("listenForSupervisor", () => {
  test("listens in a root-only directory of its own, on an owner-only socket", async () => {
    const listener = await listenForSupervisor(runDir);
    expect(readdirSync(runDir)).toEqual([listener.hostDir.slice(runDir.length + 1)]);
    expect(statSync(listener.hostDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(listener.hostDir, CHANNEL_SOCKET_NAME)).mode & 0o777).toBe(0o600);
    listener.close();
  });

  test("takes the first connection, then removes the socket and its directory: a second connect finds nothing", async () => {
    const listener = await listenForSupervisor(runDir);
    const first = await supervisorConnects(listener);
    expect(typeof first).not.toBe("string");
    expect(await listener.connection).not.toBeNull();
    expect(existsSync(listener.hostDir)).toBe(false);
    expect(await supervisorConnects(listener)).toBe("ENOENT");
    (first as Socket).destroy();
    (await listener.connection)?.destroy();
  });

  test("closed without a connection: resolves null and leaves no directory; closing again changes nothing", async () => {
    const listener = await listenForSupervisor(runDir);
    listener.close();
    listener.close();
    expect(await listener.connection).toBeNull();
    expect(readdirSync(runDir)).toEqual([]);
    expect(await supervisorConnects(listener)).toBe("ENOENT");
  });
});

describe("SupervisorChannel over the direct channel", () => {
  test("the supervisor's connection carries every frame once made; the listener is gone once the channel is open", async () => {
    const attach = new PassThrough();
    const toAttach = received(attach);
    const listener = await listenForSupervisor(runDir);
    const supervisor = (await supervisorConnects(listener)) as Socket;
    const fromEngine = received(supervisor);
    supervisor.write(READY);
    const channel = await SupervisorChannel.open(attach, () => {}, listener);
    expect(channel.transport).toBe("direct");
    expect(channel.sandboxUid).toBe(1000123);
    expect(existsSync(listener.hostDir)).toBe(false);

    const pinged = channel.ping();
    await Bun.sleep(20);
    expect(Buffer.concat(fromEngine).equals(encodeFrame("P"))).toBe(true);
    supervisor.write(frame("p"));
    await pinged;
    expect(toAttach).toEqual([]);
    channel.close();
    supervisor.destroy();
  });

  test("a frame on the attach stream's stdout is not read once the direct channel serves; the supervisor's log lines still are", async () => {
    const attach = new PassThrough();
    const logged: string[] = [];
    const listener = await listenForSupervisor(runDir);
    const supervisor = (await supervisorConnects(listener)) as Socket;
    supervisor.write(READY);
    const channel = await SupervisorChannel.open(attach, (line) => logged.push(line), listener);
    let answered = false;
    const pinged = channel.ping().then(() => (answered = true));
    attach.write(muxed(1, frame("p")));
    attach.write(muxed(2, Buffer.from("isol8-supervisor: a log line\n")));
    await Bun.sleep(50);
    expect(answered).toBe(false);
    expect(logged).toEqual(["supervisor: isol8-supervisor: a log line"]);
    supervisor.write(frame("p"));
    await pinged;
    expect(answered).toBe(true);
    channel.close();
    supervisor.destroy();
  });

  test("the channel breaks when the supervisor's connection ends, and close() ends that connection", async () => {
    const listener = await listenForSupervisor(runDir);
    const supervisor = (await supervisorConnects(listener)) as Socket;
    supervisor.write(READY);
    const channel = await SupervisorChannel.open(new PassThrough(), () => {}, listener);
    const broken = new Promise<Error>((resolve) => channel.whenBroken(resolve));
    supervisor.end();
    const error = await broken;
    expect(error).toBeInstanceOf(SandboxError);
    expect(error.message).toBe("Cannot talk to the sandbox: the container stopped");

    const other = await listenForSupervisor(runDir);
    const second = (await supervisorConnects(other)) as Socket;
    const ended = new Promise<void>((resolve) => second.on("close", () => resolve()));
    second.resume();
    second.write(READY);
    const open = await SupervisorChannel.open(new PassThrough(), () => {}, other);
    open.close();
    await ended;
  });

  test("still works: without a connection the ready frame on the attach stream opens an attach channel, and the listener is removed", async () => {
    const attach = new PassThrough();
    const listener = await listenForSupervisor(runDir);
    attach.write(muxed(1, READY));
    const channel = await SupervisorChannel.open(attach, () => {}, listener);
    expect(channel.transport).toBe("attach");
    expect(channel.sandboxUid).toBe(1000123);
    expect(await listener.connection).toBeNull();
    expect(readdirSync(runDir)).toEqual([]);
    channel.close();
  });
});
