import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FilteringProxy, type FilteringProxyOptions } from "./filtering-proxy";

/** Where a filtered container finds the proxy's socket (a read-only bind mount). */
export const PROXY_MOUNT = "/run/isol8-proxy";
export const PROXY_SOCKET_NAME = "proxy.sock";

export interface ProxyAttachment {
  /** The proxy's listener key for this container. */
  key: string;
  /** Host directory holding the container's socket (mounted at PROXY_MOUNT). */
  hostDir: string;
  close(): Promise<void>;
}

/**
 * The host side of filtered networking for one engine: one proxy, and one root-only unix
 * socket per filtered container (in its own 0700 directory), so the proxy knows which
 * container, and so which execution's policy, every connection belongs to.
 */
export class SandboxNetwork {
  readonly proxy: FilteringProxy;

  constructor(
    private readonly runDir: string,
    options: FilteringProxyOptions,
  ) {
    this.proxy = new FilteringProxy(options);
  }

  async attach(): Promise<ProxyAttachment> {
    const key = randomUUID();
    const hostDir = join(this.runDir, key);
    mkdirSync(hostDir, { recursive: true, mode: 0o700 });
    try {
      const listener = await this.proxy.listenUnix(key, join(hostDir, PROXY_SOCKET_NAME), { mode: 0o600 });
      return {
        key,
        hostDir,
        close: async () => {
          this.proxy.clearPolicy(key);
          await listener.close();
          rmSync(hostDir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      rmSync(hostDir, { recursive: true, force: true });
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.proxy.close();
    rmSync(this.runDir, { recursive: true, force: true });
  }
}

/** Environment that points every common HTTP client of the sandbox at the forwarder. */
export function proxyEnv(port: number): Record<string, string> {
  const url = `http://127.0.0.1:${port}`;
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    NO_PROXY: "localhost,127.0.0.1,::1",
    no_proxy: "localhost,127.0.0.1,::1",
    // Node's own fetch/http honour the variables above only with this set.
    NODE_USE_ENV_PROXY: "1",
  };
}
