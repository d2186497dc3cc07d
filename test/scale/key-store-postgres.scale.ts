// The key-store contract (src/store/key-store.contract.ts) against a real PostgreSQL from
// Debian's packages, started on loopback in a temporary directory for this file.
import { afterAll, beforeAll } from "bun:test";
import { keyStoreContract } from "../../src/store/key-store.contract";
import { freshPostgresDatabase } from "../../src/store/postgres-fresh";
import { type RunningPostgres, startPostgres } from "./services";

let pg: RunningPostgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop(), 30_000);

keyStoreContract("PostgreSQL", () => freshPostgresDatabase(pg.url));
