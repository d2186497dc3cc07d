import { randomUUID } from "node:crypto";
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";

/** Where a container finds the engine's direct channel (a read-only bind mount). */
export const CHANNEL_MOUNT = "/run/isol8-channel";
export const CHANNEL_SOCKET_NAME = "channel.sock";

/**
 * The engine's end of one container's direct channel before the supervisor connects: a unix
 * socket in its own 0700 host directory (`hostDir`, bind-mounted read-only at CHANNEL_MOUNT).
 * The first connection is the supervisor's (it connects at start, before any other process of
 * the container exists); the socket and its directory are removed as it arrives, so no second
 * connection can be made. See supervisor.c, "direct channel".
 */
export interface DirectChannelListener {
  readonly hostDir: string;
  /** The supervisor's connection; null once closed without one. */
  readonly connection: Promise<Socket | null>;
  /** Stops listening and removes the directory (idempotent); `connection` then settles with what it has. */
  close(): void;
}

/** Listens in `<runDir>/<random>`; the caller closes it once the channel is open or the container failed. */
export async function listenForSupervisor(runDir: string): Promise<DirectChannelListener> {
  const hostDir = join(runDir, randomUUID());
  mkdirSync(hostDir, { recursive: true, mode: 0o700 });
  const path = join(hostDir, CHANNEL_SOCKET_NAME);
  // Nothing is read before the channel listens: a socket buffers what arrives until then.
  const server = createServer();
  // (Not Promise.withResolvers: the library runs on Node 20.)
  let resolve: (socket: Socket | null) => void = () => {};
  const connection = new Promise<Socket | null>((settle) => (resolve = settle));
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    server.close();
    rmSync(hostDir, { recursive: true, force: true });
    resolve(null);
  };
  server.on("connection", (socket) => {
    if (closed) return void socket.destroy();
    resolve(socket);
    close();
  });
  try {
    await new Promise<void>((done, fail) => {
      server.once("error", fail);
      server.listen(path, () => {
        server.off("error", fail);
        done();
      });
    });
    chmodSync(path, 0o600);
  } catch (error) {
    close();
    throw error;
  }
  server.on("error", close);
  return { hostDir, connection, close };
}
