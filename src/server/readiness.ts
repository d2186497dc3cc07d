// Readiness (GET /ready), apart from liveness (/health): can this server run an execution
// now? Docker answers, the runtime images are present, the warm pool was filled. Checks are
// shared and cached briefly: the route needs no key, so a flood of probes costs one check.

export interface ReadinessCheck {
  ok: boolean;
  /** Why not, or what was found. */
  detail?: string;
}

export interface Readiness {
  ready: boolean;
  /** The first failing check's detail. */
  reason?: string;
  checks: Record<string, ReadinessCheck>;
}

export interface ReadinessProbes {
  /** Resolves when Docker answers (throws otherwise). */
  docker(): Promise<void>;
  /** Images that should be present and are not. */
  missingImages(): Promise<string[]>;
  /** Has the warm pool been filled once (true when there is no pool)? */
  poolWarmed(): boolean;
  /** The server is shutting down. */
  closing(): boolean;
}

/** How long one readiness answer is reused. */
const CACHE_MS = 1_000;

export function createReadiness(probes: ReadinessProbes, now: () => number = () => performance.now()): () => Promise<Readiness> {
  let cached: { at: number; answer: Promise<Readiness> } | null = null;
  const check = async (): Promise<Readiness> => {
    const checks: Record<string, ReadinessCheck> = {};
    if (probes.closing()) checks.server = { ok: false, detail: "shutting down" };
    try {
      await probes.docker();
      checks.docker = { ok: true };
      const missing = await probes.missingImages();
      checks.images = missing.length ? { ok: false, detail: `missing ${missing.join(", ")} (run isol8 setup)` } : { ok: true };
    } catch (error) {
      checks.docker = { ok: false, detail: (error as Error).message.split("\n")[0] ?? "not answering" };
      checks.images = { ok: false, detail: "unknown: Docker does not answer" };
    }
    checks.pool = probes.poolWarmed() ? { ok: true } : { ok: false, detail: "warming up" };
    const failing = Object.entries(checks).find(([, c]) => !c.ok);
    return { ready: !failing, ...(failing ? { reason: `${failing[0]}: ${failing[1].detail}` } : {}), checks };
  };
  return () => {
    if (!cached || now() - cached.at > CACHE_MS || probes.closing()) cached = { at: now(), answer: check() };
    return cached.answer;
  };
}
