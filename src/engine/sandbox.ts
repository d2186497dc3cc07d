import { ImageError, SandboxError } from "../errors";
import { removeWithRetries } from "./cleanup";
import type { DockerClient } from "./docker";
import { DOCKER_RUNTIME_NAMES, type SandboxAttachments, type SandboxSpec, toContainerOptions } from "./container-options";
import { PROXY_MOUNT, PROXY_SOCKET_NAME, type ProxyAttachment } from "./network/sandbox-network";
import type { SandboxUids } from "./sandbox-uids";
import { SupervisorChannel } from "./supervisor/channel";
import { CHANNEL_MOUNT, CHANNEL_SOCKET_NAME, type DirectChannelListener, listenForSupervisor } from "./supervisor/direct-channel";

/**
 * One started sandbox container with its open control channel. Always disposed:
 * `await using sandbox = await createSandbox(...)`, or dispose() in a finally.
 */
export class Sandbox implements AsyncDisposable {
  /** Executions run in this container so far. */
  uses = 0;
  readonly createdAt = Date.now();
  private disposed: Promise<void> | null = null;

  constructor(
    readonly id: string,
    readonly channel: SupervisorChannel,
    /** Identity of the container's settings: only a request with the same key may reuse it. */
    readonly key: string,
    private readonly docker: DockerClient,
    /** The uid this container's programs run as (its own: see sandbox-uids.ts). */
    readonly uid: number,
    /** Gives the uid back once the container is gone. */
    private readonly releaseUid: () => void,
    /** Filtered mode: this container's socket on the proxy. */
    readonly proxy?: ProxyAttachment,
    /** Docker removes it once it exits (spec.autoRemove): see letGo. */
    readonly autoRemove = false,
  ) {}

  get isDisposed(): boolean {
    return this.disposed !== null;
  }

  /** Removes the container (idempotent). */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      this.channel.close();
      try {
        await removeWithRetries(this.docker, this.id);
        // Only a removed container's uid may go to another one.
        this.releaseUid();
      } finally {
        await this.proxy?.close();
      }
    })();
    return this.disposed;
  }

  /**
   * For an autoRemove container whose run ended clean: closes the channel, which closes the
   * container's stdin (StdinOnce); the supervisor ends, the container exits and Docker removes
   * it. Resolves when Docker reports it removed; if Docker cannot say, it is removed as usual.
   */
  letGo(): Promise<void> {
    this.disposed ??= (async () => {
      const removed = this.docker.waitRemoved(this.id);
      this.channel.close();
      await this.proxy?.close();
      await removed.catch(() => removeWithRetries(this.docker, this.id));
      // Only a removed container's uid may go to another one.
      this.releaseUid();
    })();
    return this.disposed;
  }

  /** What became of this container (see whatBecameOf). */
  whatHappened(): Promise<SandboxFate> {
    return whatBecameOf(this.docker, this.id);
  }

  /** Detaches, leaving the container running for inspection (`isol8 run --persist`); its uid stays taken. */
  detach(): void {
    this.channel.hold();
    this.channel.close();
    this.disposed ??= Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

/**
 * What became of a container whose channel broke: `memoryLimit` when Docker says the memory
 * limit killed it (the whole sandbox: gVisor's kernel, or the supervisor under runc), and in
 * words for an error message.
 */
export interface SandboxFate {
  memoryLimit: boolean;
  words: string;
}

/**
 * What became of a container whose channel broke, in words: removed from outside isol8,
 * killed by the memory limit, frozen, stopped with an exit code, or still running with a
 * supervisor that no longer answers. Never throws.
 */
export async function whatBecameOf(docker: DockerClient, id: string): Promise<SandboxFate> {
  const said = (words: string, memoryLimit = false): SandboxFate => ({ memoryLimit, words });
  const removed = said("it was removed from outside isol8 (docker rm, or an isol8 cleanup --all by another process)");
  try {
    let info = await docker.inspectContainer(id);
    // Over the direct channel the supervisor's connection closes as it dies, a moment before
    // Docker sees its container stop: Docker gets that moment.
    for (let waited = 0; info?.State?.Running && !info.State.Paused && waited < 500; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      info = await docker.inspectContainer(id);
    }
    // `docker rm -f` kills first: right after the kill the container may still be listed.
    if (info && !info.State?.Running) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      info = await docker.inspectContainer(id);
    }
    if (!info || info.State?.Status === "removing" || info.State?.Dead) return removed;
    if (info.State?.OOMKilled) return said("it was killed by the memory limit", true);
    if (info.State?.Paused) return said("it is frozen (docker pause)");
    if (info.State?.Running) return said("its supervisor stopped answering");
    return said(`it stopped (exit code ${info.State?.ExitCode ?? "unknown"}: killed or its supervisor died)`);
  } catch {
    return said("Docker cannot say what became of it");
  }
}

export interface CreateSandboxOptions {
  docker: DockerClient;
  spec: SandboxSpec;
  key: string;
  /** Where the container's own uid comes from. */
  uids: SandboxUids;
  log?: (line: string) => void;
  /** Filtered mode: gives the container its own socket on the proxy. */
  attachProxy?: () => Promise<ProxyAttachment>;
  /** Filtered mode: port of the forwarder inside the container. */
  proxyPort?: number;
  /**
   * Where the engine listens for the supervisor's direct channel (a host directory Docker can
   * bind-mount: the engine and the daemon on one filesystem); none: the attach stream only.
   */
  channelDir?: string;
}

/** Creates, attaches and starts a container, then waits for its supervisor. */
export async function createSandbox(options: CreateSandboxOptions): Promise<Sandbox> {
  const { docker, spec, key, uids, log = () => {} } = options;
  const uid = uids.take();
  let proxy: ProxyAttachment | undefined;
  let direct: DirectChannelListener | undefined;
  let id: string | undefined;
  try {
    const attachments: SandboxAttachments = { uid };
    if (spec.network === "filtered") {
      if (!options.attachProxy) throw new Error("filtered network needs a proxy");
      proxy = await options.attachProxy();
      attachments.proxy = { hostDir: proxy.hostDir, mount: PROXY_MOUNT, socket: PROXY_SOCKET_NAME, port: options.proxyPort ?? 8118 };
    }
    if (options.channelDir) {
      direct = await listenForSupervisor(options.channelDir);
      attachments.channel = { hostDir: direct.hostDir, mount: CHANNEL_MOUNT, socket: CHANNEL_SOCKET_NAME };
    }
    id = await docker.createContainer(toContainerOptions(spec, attachments));
    // Attach before start so the supervisor's first frame cannot be missed.
    const stream = await docker.attach(id);
    await docker.start(id);
    const channel = await SupervisorChannel.open(stream, log, direct);
    if (channel.sandboxUid !== uid) {
      channel.close();
      throw new ImageError(
        `Cannot use image "${spec.image}": its supervisor runs programs as uid ${channel.sandboxUid ?? "(unknown)"}, not the container's uid ${uid}`,
        "rebuild the image on the current isol8 base (isol8 setup; custom images: rebuild them FROM it)",
      );
    }
    log(`container ${id.slice(0, 12)} ready (uid ${uid}, ${channel.transport} channel)`);
    return new Sandbox(id, channel, key, docker, uid, () => uids.release(uid), proxy, spec.autoRemove === true);
  } catch (error) {
    // Gone while starting (removed, killed): say so rather than pass on Docker's 404 or a closed stream.
    const lost =
      id !== undefined &&
      ((error as { status?: number }).status === 404 || (error instanceof SandboxError && error.message.startsWith("Cannot talk to the sandbox")));
    const why = lost ? (await whatBecameOf(docker, id!)).words : null;
    if (id !== undefined) {
      // Docker may be going away (a daemon restart between create and start): a container
      // left "created" is removed as soon as it answers again, without holding this error.
      const created = id;
      await docker.remove(created).catch(() => void removeWithRetries(docker, created).catch(() => {}));
    }
    direct?.close();
    await proxy?.close();
    uids.release(uid);
    if (why) throw new SandboxError(`Cannot start container "${id!.slice(0, 12)}": ${why}`, "run it again");
    if (/unknown runtime/i.test((error as Error).message)) {
      throw new SandboxError(
        `Cannot create a ${spec.isolation} sandbox: Docker has no runtime "${DOCKER_RUNTIME_NAMES[spec.isolation]}"`,
        "register gVisor with Docker (README: isolation runtimes; .ci/provision-gvisor.sh does it); isol8 doctor checks it",
      );
    }
    throw error;
  }
}
