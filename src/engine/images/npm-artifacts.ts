import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImageError } from "../../errors";
import semver from "semver";

export interface ResolvedArtifact {
  name: string;
  version: string;
  tarball: string;
  /** Subresource-integrity string from the registry, e.g. `sha512-...`. */
  integrity: string;
}

/**
 * The npm registry to fetch runtime binaries from, taken from npm's own configuration
 * (never hard-coded): ISOL8_NPM_REGISTRY, npm_config_registry, then `npm config get registry`.
 */
export function npmRegistry(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.ISOL8_NPM_REGISTRY || env.npm_config_registry || env.NPM_CONFIG_REGISTRY;
  if (fromEnv) return fromEnv.replace(/\/+$/, "");
  const result = spawnSync("npm", ["config", "get", "registry"], { encoding: "utf8", timeout: 15_000 });
  const url = result.status === 0 ? result.stdout.trim() : "";
  if (/^https?:\/\//.test(url)) return url.replace(/\/+$/, "");
  throw new ImageError(
    "Cannot find the npm registry: npm is not installed and ISOL8_NPM_REGISTRY is not set",
    "install npm, or set ISOL8_NPM_REGISTRY to the registry URL the node, bun and deno binaries come from",
  );
}

/** The highest plain `x.y.z` version (no pre-release, no build metadata) with the given major. */
export function pickVersion(versions: readonly string[], major: number): string | undefined {
  const plain = versions.filter((v) => /^\d+\.\d+\.\d+$/.test(v));
  return semver.maxSatisfying(plain, `${major}.x`) ?? undefined;
}

export async function resolveArtifact(
  registry: string,
  name: string,
  major: number,
  fetchImpl: typeof fetch = fetch,
): Promise<ResolvedArtifact> {
  const url = `${registry}/${name.replace("/", "%2f")}`;
  let body: { versions?: Record<string, { dist?: { tarball?: string; integrity?: string } }> };
  try {
    const response = await fetchImpl(url, {
      headers: { accept: "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8" },
      signal: AbortSignal.timeout(60_000),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = (await response.json()) as typeof body;
  } catch (error) {
    throw new ImageError(`Cannot resolve "${name}@${major}" from the npm registry: ${(error as Error).message}`);
  }
  const version = pickVersion(Object.keys(body.versions ?? {}), major);
  const dist = version ? body.versions?.[version]?.dist : undefined;
  if (!version || !dist?.tarball || !dist.integrity?.startsWith("sha512-")) {
    throw new ImageError(`Cannot resolve "${name}@${major}" from the npm registry: no such version with a sha512 integrity`);
  }
  return { name, version, tarball: dist.tarball, integrity: dist.integrity };
}

async function sha512Base64(path: string): Promise<string> {
  const hash = createHash("sha512");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("base64");
}

/** Downloads (or reuses from the cache) a tarball, verified against the registry's integrity. */
export async function fetchArtifact(
  artifact: ResolvedArtifact,
  cacheDir: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const expected = artifact.integrity.slice("sha512-".length);
  const file = join(cacheDir, `${artifact.name.replace(/[@/]/g, "_")}-${artifact.version}.tgz`);
  if (existsSync(file) && (await sha512Base64(file)) === expected) return file;
  let data: Buffer;
  try {
    const response = await fetchImpl(artifact.tarball, { signal: AbortSignal.timeout(600_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    data = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    throw new ImageError(`Cannot download "${artifact.name}@${artifact.version}": ${(error as Error).message}`);
  }
  const actual = createHash("sha512").update(data).digest("base64");
  if (actual !== expected) {
    throw new ImageError(`Cannot use "${artifact.name}@${artifact.version}": checksum mismatch (expected sha512-${expected})`);
  }
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, data);
  renameSync(partial, file);
  rmSync(partial, { force: true });
  return file;
}
