import type { Isol8 } from "../protocol/isol8";

/** What a session needs of its engine: the Isol8 interface over one persistent container. */
export interface SessionEngine extends Isol8 {
  /** Runtime the container is bound to (null before its first use). */
  readonly sessionRuntime: string | null;
  /** The container (null before its first use). */
  readonly sessionContainerId: string | null;
}

export interface Session {
  id: string;
  engine: SessionEngine;
  createdAt: number;
  lastUsed: number;
  /** Requests running or waiting on this session: never pruned while above zero. */
  active: number;
}

/**
 * Sessions of a server: one persistent-mode engine (one container) per session id,
 * created on first use. Requests on a session run one at a time (the persistent engine
 * queues them). Idle sessions are pruned after `idleMs`, never while in use.
 */
export class SessionManager {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly createEngine: () => SessionEngine,
    private readonly limits: { maxSessions: number; idleMs: number },
  ) {}

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** The session, created when missing; null when the server holds maxSessions already. */
  getOrCreate(id: string): Session | null {
    const existing = this.sessions.get(id);
    if (existing) return existing;
    if (this.sessions.size >= this.limits.maxSessions) return null;
    const session: Session = { id, engine: this.createEngine(), createdAt: Date.now(), lastUsed: Date.now(), active: 0 };
    this.sessions.set(id, session);
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

  list(): Session[] {
    return [...this.sessions.values()];
  }

  async delete(id: string): Promise<boolean> {
    const session = this.sessions.get(id);
    if (!session) return false;
    this.sessions.delete(id);
    await session.engine.stop();
    return true;
  }

  /** Removes sessions idle for longer than idleMs (or all idle ones with `all`). Returns their ids. */
  async prune(options: { all?: boolean; now?: number } = {}): Promise<string[]> {
    const now = options.now ?? Date.now();
    const idle = this.list().filter((s) => s.active === 0 && (options.all || now - s.lastUsed > this.limits.idleMs));
    await Promise.all(idle.map((s) => this.delete(s.id)));
    return idle.map((s) => s.id);
  }

  async stopAll(): Promise<void> {
    const all = this.list();
    this.sessions.clear();
    await Promise.allSettled(all.map((s) => s.engine.stop()));
  }
}
