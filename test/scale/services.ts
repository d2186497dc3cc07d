// PostgreSQL and nginx for the scale-out tier, from Debian's packages (.ci/provision-scale.sh
// installs them), each started on loopback in a temporary directory of its own and stopped by
// its pid. Nothing here touches a system service or a port it did not pick.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Debian's PostgreSQL programs (/usr/lib/postgresql/<version>/bin), the newest version installed. */
export function postgresBin(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : null;
}

export interface RunningService {
  child: ChildProcess;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

/** PostgreSQL refuses to run as root: as root, the server runs as Debian's `postgres` user. */
function asPostgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
  return { uid: id("-u"), gid: id("-g") };
}

export interface RunningPostgres extends RunningService {
  url: string;
  port: number;
}

/** A throwaway PostgreSQL cluster on 127.0.0.1 (trust authentication, database `isol8`). */
export async function startPostgres(label = "isol8-tenants-pg-"): Promise<RunningPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error("PostgreSQL is not installed: run .ci/provision-scale.sh");
  const dir = mkdtempSync(join(tmpdir(), label));
  const data = join(dir, "data");
  const user = asPostgresUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  const init = spawnSync(join(bin, "initdb"), ["-D", data, "-U", "isol8", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"], { ...as, encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const child = spawn(
    join(bin, "postgres"),
    ["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`, "-c", "fsync=off", "-c", "max_connections=100"],
    { ...as, stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (chunk) => (log += chunk));
  const url = `postgres://isol8@127.0.0.1:${port}/postgres`;
  const ready = join(bin, "pg_isready");
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`postgres exited: ${log}`);
    if (spawnSync(ready, ["-h", "127.0.0.1", "-p", String(port)]).status === 0) break;
    if (i > 200) throw new Error(`postgres did not start: ${log}`);
    await sleep(100);
  }
  return {
    child,
    url,
    port,
    async stop() {
      child.kill("SIGINT"); // fast shutdown
      await Promise.race([exited(child), sleep(10_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** nginx's program (Debian puts it in /usr/sbin). */
export function nginxBin(): string | null {
  for (const path of ["/usr/sbin/nginx", "/usr/bin/nginx"]) if (existsSync(path)) return path;
  return null;
}

export interface RunningNginx extends RunningService {
  url: string;
  port: number;
}

/** nginx in the foreground on 127.0.0.1 with `config` (its `listen` port is filled in: {{PORT}}). */
export async function startNginx(config: (port: number, dir: string) => string, label = "isol8-tenants-nginx-"): Promise<RunningNginx> {
  const bin = nginxBin();
  if (!bin) throw new Error("nginx is not installed: run .ci/provision-scale.sh");
  const dir = mkdtempSync(join(tmpdir(), label));
  const port = await freePort();
  const file = join(dir, "nginx.conf");
  writeFileSync(file, config(port, dir));
  const child = spawn(bin, ["-p", dir, "-c", file, "-e", join(dir, "error.log"), "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (chunk) => (log += chunk));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${log}`);
    const answered = await fetch(`http://127.0.0.1:${port}/health`).then(
      () => true,
      () => false,
    );
    if (answered) break;
    if (i > 100) throw new Error(`nginx did not start: ${log}`);
    await sleep(100);
  }
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      child.kill("SIGQUIT"); // graceful
      await Promise.race([exited(child), sleep(5_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
