import type { DockerClient } from "./docker";
import { type SandboxSpec, toContainerOptions } from "./container-options";
import { SupervisorChannel } from "./supervisor/channel";

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
  ) {}

  get isDisposed(): boolean {
    return this.disposed !== null;
  }

  /** Removes the container (idempotent). */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      this.channel.close();
      await this.docker.remove(this.id);
    })();
    return this.disposed;
  }

  /** Detaches, leaving the container running for inspection (`isol8 run --persist`). */
  detach(): void {
    this.channel.hold();
    this.channel.close();
    this.disposed ??= Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

export interface CreateSandboxOptions {
  docker: DockerClient;
  spec: SandboxSpec;
  key: string;
  log?: (line: string) => void;
}

/** Creates, attaches and starts a container, then waits for its supervisor. */
export async function createSandbox({ docker, spec, key, log = () => {} }: CreateSandboxOptions): Promise<Sandbox> {
  const id = await docker.createContainer(toContainerOptions(spec));
  try {
    // Attach before start so the supervisor's first frame cannot be missed.
    const stream = await docker.attach(id);
    await docker.start(id);
    const channel = await SupervisorChannel.open(stream, log);
    log(`container ${id.slice(0, 12)} ready`);
    return new Sandbox(id, channel, key, docker);
  } catch (error) {
    await docker.remove(id).catch(() => {});
    throw error;
  }
}
