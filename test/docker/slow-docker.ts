// A Docker API that answers every call late: a unix-socket proxy in front of the real
// daemon that holds each HTTP request (a chunk starting with a request line) for `delayMs`
// before passing it on. Point DOCKER_HOST at `unix://<path>`. Responses and hijacked
// streams pass at once; only the start of each request waits.
import { rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";

const REQUEST_LINE = /^[A-Z]+ \/[^ ]* HTTP\/1\.[01]\r\n/;

export interface SlowDocker {
  path: string;
  /** Requests seen so far. */
  requests(): number;
  close(): Promise<void>;
}

export async function startSlowDocker(path: string, delayMs: number, upstream = "/var/run/docker.sock"): Promise<SlowDocker> {
  rmSync(path, { force: true });
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const daemon = connect(upstream);
    sockets.add(client).add(daemon);
    let queue = Promise.resolve();
    client.on("data", (chunk: Buffer) => {
      const delayed = REQUEST_LINE.test(chunk.subarray(0, 200).toString("latin1"));
      if (delayed) requests++;
      // Chunks keep their order: a delayed request holds everything after it too.
      queue = queue.then(() => (delayed ? Bun.sleep(delayMs) : undefined)).then(() => void daemon.write(chunk));
    });
    daemon.on("data", (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      daemon.destroy();
    };
    client.on("close", end).on("error", end);
    daemon.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    requests: () => requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(path, { force: true });
    },
  };
}
