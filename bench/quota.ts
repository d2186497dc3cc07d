/**
 * bench/quota: what a store key costs per request. The HTTP app answers `POST /execute`
 * in-process from a stand-in engine (no Docker: only the server's own work is measured), in
 * the same run with the bootstrap (admin) key, which has no quotas, and with a key of the key
 * store that has all four quotas set high enough never to refuse: its lookup (cached 500 ms),
 * its rate bucket, the CPU-day check, the concurrency lease taken and released and the usage
 * recorded. Rounds alternate so both see the same machine; p50 of every request.
 *
 *   bun bench/quota.ts [--n 2000] [--rounds 5] [--store sqlite|postgres]
 *
 * `--store sqlite` (default): the embedded store, a SQLite file in a temporary directory (as
 * `isol8 serve` keeps it). `--store postgres`: a PostgreSQL of Debian's packages started on
 * loopback for the run (.ci/provision-scale.sh installs it).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../src/config/schema";
import { openKeyStore } from "../src/store/open-store";
import { createTenancy } from "../src/server/tenancy";
import { call, KEY, makeApp } from "../test/server-fixtures";
import { startPostgres } from "../test/scale/services";
import { arg, summary } from "./stats";

const N = Number(arg("n", "2000"));
const ROUNDS = Number(arg("rounds", "5"));
const STORE = arg("store", "sqlite");
const body = { request: { code: "print('hello')" } };

const dir = mkdtempSync(join(tmpdir(), "isol8-tenants-bench-"));
const pg = STORE === "postgres" ? await startPostgres() : null;
const location = pg ? { url: pg.url } : { path: join(dir, "keys.db") };
const tenancy = createTenancy({ adminKeys: [KEY], store: openKeyStore(location), log: () => {} });
await tenancy.start();
const { app } = makeApp(defaultConfig(), undefined, { tenancy });
const created = await call(app, "POST", "/keys", {
  name: "bench",
  quotas: { maxConcurrent: 1_000, requestsPerMinute: 1_000_000_000, cpuSecondsPerDay: 1_000_000_000, maxSessions: 1_000 },
});
const storeKey = ((await created.json()) as { key: string }).key;

/** Milliseconds of each of N requests with this key. */
async function latencies(key: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const start = performance.now();
    const response = await call(app, "POST", "/execute", body, key);
    await response.arrayBuffer();
    out.push(performance.now() - start);
    if (response.status !== 200) throw new Error(`status ${response.status}`);
  }
  return out;
}

await latencies(KEY);
await latencies(storeKey);
const admin: number[] = [];
const keyed: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  admin.push(...(await latencies(KEY)));
  keyed.push(...(await latencies(storeKey)));
}
const a = summary(admin);
const k = summary(keyed);
console.log(`bench/quota: ${ROUNDS} rounds of ${N} in-process POST /execute (stand-in engine), store: ${STORE}`);
console.log(`bootstrap key (no quotas):        p50 ${(a.p50 * 1000).toFixed(0)} µs   p95 ${(a.p95 * 1000).toFixed(0)} µs`);
console.log(`store key with all four quotas:   p50 ${(k.p50 * 1000).toFixed(0)} µs   p95 ${(k.p95 * 1000).toFixed(0)} µs`);
console.log(`key lookup + quota accounting adds ${(k.p50 - a.p50).toFixed(3)} ms p50 per request (ratio ${(k.p50 / a.p50).toFixed(2)})`);
await tenancy.close();
await pg?.stop();
rmSync(dir, { recursive: true, force: true });
