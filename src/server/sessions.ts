import type { Isol8Context, Isol8Contexts } from "../protocol/context";
import type { Isol8 } from "../protocol/isol8";
import type { RuntimeName } from "../runtimes/registry";
import type { SandboxFiles } from "../protocol/sandbox-files";

/** What a session needs of its engine: the Isol8 interface over one persistent container, with its contexts. */
export interface SessionEngine extends Isol8, Isol8Contexts {
  /** A context of the session by id (RequestError when there is none). */
  getContext(id: string): Isol8Context;
  /** Runtime the container is bound to (null before its first use). */
  readonly sessionRuntime: string | null;
  /** The container (null before its first use). */
  readonly sessionContainerId: string | null;
}

export interface Session {
  /** The principal (API key) that created the session: the only one that can reach it. */
  owner: string;
  id: string;
  engine: SessionEngine;
  createdAt: number;
  lastUsed: number;
  /** Requests running or waiting on this session: never pruned while above zero. */
  active: number;
}

/**
 * Sessions of a server: one persistent-mode engine (one container) per (owner, session id),
 * created on first use. Session ids are namespaced per owner: two principals using the same id
 * get two sessions, and no call reaches a session of another owner. Requests on a session run
 * one at a time (the persistent engine queues them). Idle sessions are pruned after `idleMs`,
 * never while in use. `maxSessions` counts the sessions of every owner.
 */
export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private removed: (session: Session) => void = () => {};

  constructor(
    private readonly createEngine: (runtime?: RuntimeName, image?: string) => SessionEngine,
    private readonly limits: { maxSessions: number; idleMs: number },
  ) {}

  /** Told of every session that goes (deleted, pruned, stopped): the session directory forgets it. */
  onRemoved(listener: (session: Session) => void): void {
    this.removed = listener;
  }

  get(owner: string, id: string): Session | undefined {
    return this.sessions.get(keyOf(owner, id));
  }

  /**
   * The owner's session, created when missing (its container bound to `runtime` when given, else
   * to its first execution's; its image `image` when given); null when the server holds maxSessions already.
   */
  getOrCreate(owner: string, id: string, runtime?: RuntimeName, image?: string): Session | null {
    const existing = this.get(owner, id);
    if (existing) return existing;
    if (this.sessions.size >= this.limits.maxSessions) return null;
    const session: Session = { owner, id, engine: this.createEngine(runtime, image), createdAt: Date.now(), lastUsed: Date.now(), active: 0 };
    this.sessions.set(keyOf(owner, id), session);
    return session;
  }

  /** Marks a session in use (safe from pruning) until the returned function is called. */
  hold(session: Session): () => void {
    session.active++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      session.active--;
      session.lastUsed = Date.now();
    };
  }

  /** Runs work on a session, holding it meanwhile. */
  async use<T>(session: Session, work: (engine: SessionEngine) => Promise<T>): Promise<T> {
    const release = this.hold(session);
    try {
      return await work(session.engine);
    } finally {
      release();
    }
  }

  /** The owner's sessions; every session when no owner is given (server housekeeping). */
  list(owner?: string): Session[] {
    const all = [...this.sessions.values()];
    return owner === undefined ? all : all.filter((s) => s.owner === owner);
  }

  /** Stops and forgets the owner's session; false when the owner has none of that id. */
  async delete(owner: string, id: string): Promise<boolean> {
    const session = this.get(owner, id);
    if (!session) return false;
    this.sessions.delete(keyOf(owner, id));
    this.removed(session);
    await session.engine.stop();
    return true;
  }

  /**
   * Removes sessions idle for longer than idleMs (or all idle ones with `all`), of one owner or
   * of every owner. Returns their ids.
   */
  async prune(options: { all?: boolean; now?: number; owner?: string } = {}): Promise<string[]> {
    const now = options.now ?? Date.now();
    const idle = this.list(options.owner).filter((s) => s.active === 0 && (options.all || now - s.lastUsed > this.limits.idleMs));
    await Promise.all(idle.map((s) => this.delete(s.owner, s.id)));
    return idle.map((s) => s.id);
  }

  async stopAll(): Promise<void> {
    const all = this.list();
    this.sessions.clear();
    for (const session of all) this.removed(session);
    await Promise.allSettled(all.map((s) => s.engine.stop()));
  }
}

/** Owner and id joined by a character neither can contain (ids are [A-Za-z0-9_.-], owners key:<hex>). */
const keyOf = (owner: string, id: string) => `${owner}\n${id}`;
